import { startStandin, type Standin } from '@earshot/elevenlabs-standin';
import { KeyScanner, makeKeys } from './keys.js';
import { SCENARIOS, type ChaosOptions, type ScenarioName } from './options.js';
import { buildReport, type ChaosReport } from './report.js';
import type { SuiteContext } from './scenarios/context.js';
import { runFullDisk } from './scenarios/full-disk.js';
import { runFuzz } from './scenarios/fuzz.js';
import { runKill9 } from './scenarios/kill9.js';
import { runLocalKey } from './scenarios/local-key.js';
import { runSlowSockets } from './scenarios/slow-sockets.js';
import { runUpstreamFaults } from './scenarios/upstream.js';
import { Tally, type ScenarioSummary } from './tally.js';

/**
 * Runs the chosen scenarios, each against its own server process (so one scenario's damage cannot hide
 * in another's numbers), and builds the report. Keys are fresh for every run. With `parallel`, the fault
 * scenarios (mostly waiting: slow sockets, restarts, stalls) run beside the fuzzers instead of after them.
 */
export async function runSuite(
  options: ChaosOptions,
  progress?: (line: string) => void,
): Promise<ChaosReport> {
  const keys = makeKeys();
  const suite: SuiteContext = {
    ...options,
    keys,
    scanner: new KeyScanner(keys),
    ...(progress ? { progress } : {}),
  };
  const started = performance.now();
  const wants = (name: ScenarioName) => options.scenarios.includes(name);
  const elevenLabsInputs = Math.round(options.inputs * options.elevenLabsShare);
  const offlineInputs = options.inputs - (wants('fuzz-elevenlabs') ? elevenLabsInputs : 0);
  // Each scenario that needs ElevenLabs gets its own stand-in: faults injected by one cannot reach another.
  const withStandin = async (body: (standin: Standin) => Promise<ScenarioSummary>) => {
    const standin = await startStandin({
      apiKeys: [keys.elevenLabs],
      maxConcurrentRequests: options.concurrency + 2,
    });
    try {
      return await body(standin);
    } finally {
      await standin.close();
    }
  };

  const summaries = new Map<ScenarioName, ScenarioSummary>();
  const run = async (name: ScenarioName, scenario: () => Promise<ScenarioSummary>) => {
    if (!wants(name)) return;
    progress?.(`${name}: starting`);
    try {
      summaries.set(name, await scenario());
    } catch (error) {
      // A scenario that could not set up is an error in the report, never a silent pass.
      const tally = new Tally(name);
      tally.error = String(
        error instanceof Error ? (process.env.CHAOS_DEBUG ? error.stack : error.message) : error,
      ).slice(0, 3000);
      tally.end();
      summaries.set(name, tally.summary());
    }
    progress?.(`${name}: done`);
  };

  const scenarios: Record<ScenarioName, () => Promise<ScenarioSummary>> = {
    'fuzz-offline': () =>
      runFuzz({ name: 'fuzz-offline', engine: 'offline', first: 0, count: offlineInputs }, suite),
    'fuzz-elevenlabs': () =>
      withStandin((standin) =>
        runFuzz(
          {
            name: 'fuzz-elevenlabs',
            engine: 'elevenlabs',
            // Disjoint from the offline range: the same seed never sends the same input twice.
            first: offlineInputs,
            count: elevenLabsInputs,
            standin,
            faultRate: options.faultRate,
          },
          suite,
        ),
      ),
    'upstream-faults': () => withStandin((standin) => runUpstreamFaults(suite, standin)),
    'slow-sockets': () => runSlowSockets(suite),
    'kill-9': () => runKill9(suite),
    'full-disk': () => runFullDisk(suite),
    'local-key': () => runLocalKey(suite),
  };
  // In parallel, three lanes of about equal length: the fuzzers are CPU-bound, the fault scenarios
  // mostly wait (bounds, restarts, stalls), so together they keep two cores busy.
  const lanes: ScenarioName[][] = options.parallel
    ? [
        ['fuzz-offline', 'local-key'],
        ['fuzz-elevenlabs', 'upstream-faults'],
        ['slow-sockets', 'kill-9', 'full-disk'],
      ]
    : [[...SCENARIOS]];
  await Promise.all(
    lanes.map(async (lane) => {
      for (const name of lane) await run(name, scenarios[name]);
    }),
  );
  const ordered = SCENARIOS.flatMap((name) => summaries.get(name) ?? []);
  return buildReport(options.seed, ordered, Math.round(performance.now() - started));
}

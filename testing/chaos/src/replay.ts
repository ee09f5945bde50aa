import { startStandin } from '@earshot/elevenlabs-standin';
import { generateInput } from './gen/index.js';
import { describeInput, serialiseInput } from './inputs.js';
import { KeyScanner, makeKeys } from './keys.js';
import type { ChaosOptions } from './options.js';
import { runInput } from './run-input.js';
import { upstreamFault } from './scenarios/fuzz.js';
import { describeFds } from './proc.js';
import { Rng } from './prng.js';
import { Tally } from './tally.js';
import { Target } from './target.js';
import { discoverWorld } from './world.js';

/**
 * Runs one fuzz input of a seed alone against a fresh server and prints it, what came back and what was
 * found. The input index decides the engine exactly as in the full run (same --inputs, same split).
 */
export async function replay(
  options: ChaosOptions,
  index: number,
  print: (line: string) => void,
): Promise<boolean> {
  const keys = makeKeys();
  const scanner = new KeyScanner(keys);
  const offlineInputs = options.inputs - Math.round(options.inputs * options.elevenLabsShare);
  const elevenLabs = options.scenarios.includes('fuzz-elevenlabs') && index >= offlineInputs;
  const standin = elevenLabs ? await startStandin({ apiKeys: [keys.elevenLabs] }) : undefined;
  const tally = new Tally(`replay ${index}`);
  const target = await Target.start({
    keys,
    scanner,
    env: standin ? { ELEVENLABS_API_KEY: keys.elevenLabs, ELEVENLABS_BASE_URL: standin.url } : {},
  });
  try {
    const world = await discoverWorld(target, elevenLabs ? 'elevenlabs' : 'offline');
    const input = generateInput(options.seed, index, world);
    if (standin && Rng.for(options.seed, index, 1).chance(options.faultRate)) {
      const fault = upstreamFault(Rng.for(options.seed, index, 2));
      print(`upstream fault: ${JSON.stringify(fault)}`);
      standin.injectFault(fault);
    }
    print(
      `seed ${options.seed}, input ${index} (${elevenLabs ? 'ElevenLabs stand-in' : 'offline engine'}): ${describeInput(input)}`,
    );
    print(JSON.stringify(serialiseInput(input), null, 2));
    const baseline = await target.baseline();
    const players = target.playersConnected();
    const context = { port: target.port, keyOf: target.keyOf, historyId: (n: number) => target.pool.get(n) };
    await runInput(input, context, {
      ...target.inspection(tally, index, describeInput(input)),
      trace: (request, response) =>
        print(
          `→ ${request.method} ${request.path.slice(0, 200)}: ${response.outcome} ${response.status}\n${scanner.redact(response.raw.toString('latin1').slice(0, 2000))}`,
        ),
    });
    // The same after-checks as a run: the server must let go of everything and still stop gracefully.
    if (baseline) await target.checkSettled(tally, baseline, players, 3_000);
    print(`server holds: ${describeFds(target.server.pid)} (baseline: ${baseline?.fdTargets ?? '?'})`);
  } finally {
    await target.stop(tally, 10_000);
    await standin?.close();
  }
  const summary = tally.summary();
  for (const note of summary.notes) print(note);
  for (const finding of summary.findings) {
    print(
      `[${finding.kind}] ${finding.detail}${finding.response ? `\n    ${finding.response.slice(0, 600)}` : ''}`,
    );
  }
  print(summary.findings.length === 0 ? 'nothing found' : `${summary.findings.length} finding(s)`);
  return summary.findings.length === 0;
}

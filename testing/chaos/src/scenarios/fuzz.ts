import type { Standin, Fault } from '@earshot/elevenlabs-standin';
import { generateInput, type World } from '../gen/index.js';
import { describeInput, type FuzzInput } from '../inputs.js';
import { REAL_USER } from '../keys.js';
import { Player } from '../player.js';
import { Rng } from '../prng.js';
import { runInput } from '../run-input.js';
import { Tally, type ScenarioSummary } from '../tally.js';
import type { LiveMemory } from '../inspector.js';
import { Target } from '../target.js';
import { discoverWorld } from '../world.js';
import type { SuiteContext } from './context.js';

export interface FuzzPlan {
  readonly name: string;
  readonly engine: World['engine'];
  /** Input indices [first, first + count): the two fuzz scenarios take disjoint ranges of one seed. */
  readonly first: number;
  readonly count: number;
  /** With the stand-in: the share of inputs preceded by an injected upstream fault. */
  readonly standin?: Standin;
  readonly faultRate?: number;
}

/** A fault for the stand-in, drawn from its own stream so it does not change the inputs themselves. */
export function upstreamFault(rng: Rng): Fault {
  return rng.weighted<Fault>([
    [2, { status: 401 }],
    [3, { status: 429 }],
    [2, { status: 500 }],
    [2, { status: 503 }],
    [1, { status: 422 }],
    [3, { kind: 'reset', afterBytes: rng.int(0, 20_000), path: /text-to-speech|dialogue|sound/ }],
    [
      2,
      {
        kind: 'stall',
        afterBytes: rng.int(0, 20_000),
        ms: rng.int(100, 3_000),
        path: /text-to-speech|dialogue|sound/,
      },
    ],
  ]);
}

/**
 * The fuzzer: `count` seeded inputs against one server, `concurrency` at a time, with the real user's
 * player connected throughout. A server that dies is a crash (the inputs in flight are listed for
 * replay) and is restarted on the same data so the run goes on; afterwards the real user must still be
 * able to speak, and descriptors, players and memory must come back to where they were.
 */
export async function runFuzz(plan: FuzzPlan, suite: SuiteContext): Promise<ScenarioSummary> {
  const tally = new Tally(plan.name);
  let mark = performance.now();
  const phases: string[] = [];
  const phase = (name: string) => {
    const now = performance.now();
    phases.push(`${name} ${((now - mark) / 1000).toFixed(1)} s`);
    mark = now;
  };
  const target = await Target.start({
    keys: suite.keys,
    scanner: suite.scanner,
    env: plan.standin ? standinEnv(plan.standin, suite) : {},
    inspect: true,
  });
  phase('start');
  let player: Player | undefined;
  try {
    const world = await discoverWorld(target, plan.engine);
    player = await Player.connect(target.url, suite.keys.byUser[REAL_USER]);
    // The baseline's player count comes from the log: wait for this player's line to reach it.
    await target.untilPlayersLogged(1);
    // Warm-up: the engine, the store and what the server loads on first use are loaded before the baseline.
    const warm = await target.realSpeak('Warming up the voice.', 'rest', 30_000);
    if (!warm.ok) throw new Error(`the real user could not speak before fuzzing: ${warm.detail}`);
    await target.loadLazyParts(warm);
    phase('warm-up');
    const liveBefore = await target.liveMemory();
    const baseline = await target.baseline();
    if (!baseline || !liveBefore) throw new Error('cannot read /proc or the inspector of the server process');
    tally.rssBeforeKiB = baseline.rssKiB;
    const players = target.playersConnected();

    const inFlight = new Set<number>();
    let restarting: Promise<void> | undefined;
    let next = plan.first;
    const end = plan.first + plan.count;
    const context = {
      get port() {
        return target.port;
      },
      keyOf: target.keyOf,
      historyId: (n: number) => target.pool.get(n),
    };

    const checkAlive = async () => {
      if (target.server.alive || target.server.killedOnPurpose) return;
      restarting ??= (async () => {
        tally.find(
          'crash',
          `server exited ${JSON.stringify(target.server.exitStatus)} with inputs ${[...inFlight].join(', ')} in flight`,
          {
            response: suite.scanner.redact(target.server.output().slice(-1500)),
          },
        );
        await target.restart();
        player?.close();
        player = await Player.connect(target.url, suite.keys.byUser[REAL_USER]);
      })().finally(() => (restarting = undefined));
      await restarting;
    };

    const timing: Record<string, { n: number; ms: number }> = {};
    const worker = async () => {
      while (next < end) {
        const index = next++;
        await checkAlive();
        if (restarting) await restarting;
        let input: FuzzInput;
        try {
          input = generateInput(suite.seed, index, world);
        } catch (error) {
          tally.note(`generator error on input ${index}: ${String(error)}`);
          tally.error ??= `the generator failed on input ${index}: ${String(error)}`;
          continue;
        }
        if (plan.standin && plan.faultRate && Rng.for(suite.seed, index, 1).chance(plan.faultRate)) {
          plan.standin.injectFault(upstreamFault(Rng.for(suite.seed, index, 2)));
        }
        inFlight.add(index);
        const t0 = performance.now();
        try {
          await runInput(input, context, target.inspection(tally, index, describeInput(input)));
        } catch (error) {
          tally.note(`harness error on input ${index}: ${String(error)}`);
        } finally {
          inFlight.delete(index);
          tally.inputs++;
          const key = input.label
            .split(':')[0]!
            .split(' +')[0]!
            .replace(/\/sp_\w+/, '/:id');
          const entry = (timing[key] ??= { n: 0, ms: 0 });
          entry.n++;
          entry.ms += performance.now() - t0;
        }
        if (tally.inputs % 1000 === 0) {
          const rss = target.sample()?.rssKiB;
          if (rss !== undefined) trajectory.push(`${tally.inputs}: ${Math.round(rss / 1024)}`);
          suite.progress?.(`${plan.name}: ${tally.inputs}/${plan.count} inputs`);
        }
      }
    };
    phase('baseline');
    const fuzzStarted = performance.now();
    // RSS (MiB) every 1000 inputs: a leak climbs steadily; a heap finding its size levels off.
    const trajectory: string[] = [`0: ${Math.round(baseline.rssKiB / 1024)}`];
    await Promise.all(Array.from({ length: suite.concurrency }, worker));
    if (process.env.CHAOS_TIMING) {
      const top = Object.entries(timing)
        .sort((a, b) => b[1].ms - a[1].ms)
        .slice(0, 15);
      tally.note(
        `time by input kind: ${top.map(([k, v]) => `${k} n=${v.n} total=${Math.round(v.ms)} avg=${Math.round(v.ms / v.n)}`).join('; ')}`,
      );
    }
    if (trajectory.length > 2) tally.note(`RSS MiB by inputs sent — ${trajectory.join(', ')}`);
    tally.note(
      `${tally.inputs} inputs in ${((performance.now() - fuzzStarted) / 1000).toFixed(1)} s at concurrency ${suite.concurrency}`,
    );
    await checkAlive();
    phase('inputs');
    plan.standin?.clearFaults();

    // After the storm: the real user's speech still works and reaches the player.
    const before = player.messages.length;
    for (const via of ['rest', 'mcp'] as const) {
      const speech = await target.realSpeak(`Still here after the fuzz, through ${via}.`, via, 30_000);
      target.inspect(
        tally,
        `real user speech (${via}) after fuzzing`,
        'POST',
        via === 'rest' ? '/api/v1/speak' : '/mcp',
        speech.response,
      );
      if (!speech.ok)
        tally.find('hang', `the real user's ${via} speech failed after fuzzing: ${speech.detail}`);
    }
    const heard = await player.waitFor(
      (m) => m.type === 'speech.end' && player!.messages.indexOf(m) >= before,
      10_000,
    );
    if (!heard) tally.find('hang', "the real user's player got no speech.end after fuzzing");

    phase('real user after');
    await target.checkSettled(tally, baseline, players, 10_000);
    phase('settle');
    const liveAfter = await target.liveMemory();
    phase('forced GC');
    tally.rssAfterKiB = target.sample()?.rssKiB ?? null;
    if (liveAfter) checkMemory(tally, liveBefore, liveAfter, suite);
  } finally {
    player?.close();
    await target.stop(tally);
    phase('stop');
    tally.note(`phases: ${phases.join(', ')}`);
    tally.end();
  }
  return tally.summary();
}

function standinEnv(standin: Standin, suite: SuiteContext): Record<string, string> {
  return { ELEVENLABS_API_KEY: suite.keys.elevenLabs, ELEVENLABS_BASE_URL: standin.url };
}

const MiB = 1024 * 1024;

/**
 * Memory that outlives the run, read after a forced full GC at the baseline and at the end. A leak is
 * live memory (heap used + external, where Buffers live) growing past `liveGrowthBoundMiB`, or RSS past
 * `rssGrowthBoundMiB` (native memory: Flite's WebAssembly, sockets); see options.ts for both bounds.
 */
export function checkMemory(tally: Tally, before: LiveMemory, after: LiveMemory, suite: SuiteContext): void {
  const live = (m: LiveMemory) => m.heapUsed + m.external;
  const liveGrowth = (live(after) - live(before)) / MiB;
  const rssGrowth = (after.rss - before.rss) / MiB;
  tally.note(
    `after a forced GC: heap used ${(before.heapUsed / MiB).toFixed(0)}→${(after.heapUsed / MiB).toFixed(0)} MiB, ` +
      `external ${(before.external / MiB).toFixed(0)}→${(after.external / MiB).toFixed(0)} MiB, ` +
      `heap committed ${(before.heapTotal / MiB).toFixed(0)}→${(after.heapTotal / MiB).toFixed(0)} MiB, ` +
      `RSS ${(before.rss / MiB).toFixed(0)}→${(after.rss / MiB).toFixed(0)} MiB`,
  );
  if (liveGrowth > suite.liveGrowthBoundMiB) {
    tally.find(
      'leak',
      `live memory grew ${liveGrowth.toFixed(0)} MiB (bound ${suite.liveGrowthBoundMiB} MiB) and survived a full GC`,
    );
  }
  if (rssGrowth > suite.rssGrowthBoundMiB) {
    tally.find(
      'leak',
      `RSS grew ${rssGrowth.toFixed(0)} MiB after a full GC (bound ${suite.rssGrowthBoundMiB} MiB)`,
    );
  }
}

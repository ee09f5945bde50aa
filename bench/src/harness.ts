import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { LONG_TEXTS, SHORT_TEXTS, type RunContext, type SpokenText, type TimeWindow } from './context.js';
import type { CallPathSample } from './call-path-probe.js';
import type { GcPause } from './gc-probe.js';
import { DirectClient } from './direct.js';
import { describeError } from './errors.js';
import type { FigureValues } from './figures.js';
import type { BenchOptions } from './options.js';
import { Child, ENTRY, type CpuPlan } from './processes.js';
import { crowd, type CrowdWindows } from './scenarios/crowd.js';
import { bandwidth, firstAudio } from './scenarios/first-audio.js';
import { noop } from './scenarios/noop.js';
import { startup } from './scenarios/startup.js';
import { percentile } from './stats.js';
import {
  EARSHOT_UPSTREAM_FORMAT,
  startEarshot,
  startFloor,
  TARGETS,
  UserKeys,
  type EarshotTarget,
  type FloorTarget,
  type ServerProbeFiles,
  type Target,
  type TargetName,
} from './targets.js';

export interface RunResult {
  readonly run: number;
  readonly startedAt: string;
  /** 1-minute load average before and after: other work on the machine shows here. */
  readonly loadavg: { readonly start: number; readonly end: number };
  readonly figures: Record<string, FigureValues>;
  readonly extras: Record<string, number>;
  readonly notes: string[];
}

/**
 * One run with fresh processes: the stand-in (prerendered, on the load CPU), Earshot and the floor relay
 * (both on the server CPU; only one is ever busy), then the scenarios asked for, then everything stopped.
 */
export async function runOnce(
  options: BenchOptions,
  cpus: CpuPlan,
  run: number,
  log: (line: string) => void,
): Promise<RunResult> {
  const result: RunResult = {
    run,
    startedAt: new Date().toISOString(),
    loadavg: { start: loadavg()[0]!, end: NaN },
    figures: {},
    extras: {},
    notes: [],
  };
  const workDir = mkdtempSync(join(tmpdir(), 'earshot-bench-'));
  const upstreamKey = `bench-${randomBytes(12).toString('hex')}`;
  const { pacing, sizes, only } = options;
  const probeFiles: Record<TargetName, ServerProbeFiles> = {
    earshot: { callPath: join(workDir, 'call-path-earshot.json'), gc: join(workDir, 'gc-earshot.json') },
    floor: { callPath: join(workDir, 'call-path-floor.json'), gc: join(workDir, 'gc-floor.json') },
  };
  /** When each first-audio scenario's measured rounds ran (ms since the epoch): the call-path samples kept for it. */
  const windows: Partial<Record<'a' | 'b', TimeWindow>> = {};
  /** When scenario c's bursts ran on each target: the GC pauses counted for them. */
  const crowdWindows: Partial<Record<TargetName, CrowdWindows>> = {};
  let standin: Child | undefined;
  let direct: DirectClient | undefined;
  let earshot: EarshotTarget | undefined;
  let floor: FloorTarget | undefined;
  let failed = false;
  try {
    standin = Child.spawn(
      'stand-in',
      [
        ENTRY.standin,
        '--port',
        '0',
        '--key',
        upstreamKey,
        '--rtf',
        String(pacing.realtimeFactor),
        '--first-byte-ms',
        String(pacing.firstByteLatencyMs),
        // The crowd's speeches all run at once; a 429 would measure the stand-in's limit, not the server.
        '--max-concurrent',
        '100000',
        '--prerendered',
      ],
      { cpu: cpus.loadCpu },
    );
    const standinUrl = await standin.firstLine(60_000);
    direct = new DirectClient(standinUrl, upstreamKey);
    // Each text rendered once now, before anything is measured; its PCM gives the clip's length.
    const learn = async (texts: readonly string[]): Promise<SpokenText[]> => {
      const learned: SpokenText[] = [];
      for (const text of texts) learned.push({ text, seconds: (await direct!.speak(text)).audioSeconds });
      return learned;
    };
    const short = await learn(SHORT_TEXTS);
    const long = await learn(LONG_TEXTS);
    // And rendered in the format both targets ask for: the stand-in keeps a render per format, and otherwise
    // whichever target met a text first in a measured phase (the crowd's) would also wait for its rendering.
    await Promise.all(
      [...SHORT_TEXTS, ...LONG_TEXTS].map((text) => direct!.speak(text, 120_000, EARSHOT_UPSTREAM_FORMAT)),
    );
    // Every run has the whole company's keys configured, whichever scenarios it runs.
    const keys = new UserKeys(Math.max(sizes.users, sizes.concurrentSpeakers));
    earshot = await startEarshot({
      cpu: cpus.serverCpu,
      upstreamUrl: standinUrl,
      upstreamKey,
      keys,
      dataDir: workDir,
      maxSockets: sizes.users * sizes.playersPerUser + sizes.speaking * 2,
      logLevel: options.serverLogLevel,
      nodeArgs: options.serverNodeArgs,
      cpuProfDir: options.serverCpuProf === undefined ? undefined : resolve(options.serverCpuProf),
      cpuProfIntervalUs: options.serverCpuProfInterval,
      probeFiles: probeFiles.earshot,
    });
    floor = await startFloor({
      cpu: cpus.serverCpu,
      upstreamUrl: standinUrl,
      upstreamKey,
      probeFiles: probeFiles.floor,
    });
    const ctx: RunContext = {
      options,
      run,
      cpus,
      earshot,
      floor,
      direct,
      short,
      long,
      standin: { url: standinUrl, key: upstreamKey, pid: standin.pid },
      keys,
      workDir,
      log,
      record: (id, target, value) => void ((result.figures[id] ??= {})[target] = value),
      extra: (id, value) => void (result.extras[id] = value),
      note: (text) => void result.notes.push(text),
    };
    const phase = async (name: string, body: () => Promise<void>) => {
      const started = performance.now();
      log(`  run ${run}: ${name}…`);
      await body();
      log(`  run ${run}: ${name} done in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    };

    if (only.has('e')) await phase('e (start-up)', () => startup(ctx));
    if (only.has('a') || only.has('f')) {
      await phase('a (1 speaker) and f', async () => {
        const { streams, measuredFrom } = await firstAudio(ctx, 'a', 1, sizes.roundsSingle);
        windows.a = { from: measuredFrom, to: performance.timeOrigin + performance.now() };
        bandwidth(ctx, streams);
      });
    }
    if (only.has('b'))
      await phase(`b (${sizes.concurrentSpeakers} speakers)`, async () => {
        const { measuredFrom } = await firstAudio(ctx, 'b', sizes.concurrentSpeakers, sizes.roundsConcurrent);
        windows.b = { from: measuredFrom, to: performance.timeOrigin + performance.now() };
      });
    if (only.has('d')) await phase('d (no-op calls)', () => noop(ctx));
    if (only.has('c')) {
      // The target that goes first alternates between runs, so neither always meets a fresher machine.
      const order: Target[] = run % 2 === 1 ? [earshot, floor] : [floor, earshot];
      for (const target of order) {
        await phase(
          `c on ${target.name} (${sizes.users} users × ${sizes.playersPerUser} players, ${sizes.speaking} speaking)`,
          async () => void (crowdWindows[target.name] = await crowd(ctx, target)),
        );
        // Let the closed players' sockets finish closing before the other target is measured.
        await new Promise((resolve) => setTimeout(resolve, 1000));
      }
    }
    const end = loadavg()[0]!;
    // The probe writes its samples as each server exits.
    await Promise.all([earshot.stop(), floor.stop()]);
    for (const scenario of ['a', 'b'] as const) {
      const window = windows[scenario];
      if (window) callPath(ctx, probeFiles, scenario, window);
    }
    for (const name of TARGETS) {
      const bursts = crowdWindows[name];
      if (bursts) gcPauses(ctx, probeFiles, name, bursts);
    }
    return { ...result, loadavg: { ...result.loadavg, end } };
  } catch (error) {
    failed = true;
    const serverLog = earshot ? readFileSync(earshot.logPath, 'utf8').split('\n').slice(-15).join('\n') : '';
    throw new Error(
      `run ${run} failed: ${describeError(error)}` +
        (serverLog ? `\nlast lines of Earshot's log:\n${serverLog}` : ''),
      { cause: error },
    );
  } finally {
    if (earshot && (failed || result.notes.length > 0)) {
      // Something went wrong: keep Earshot's log beside the results (the work directory is removed).
      const kept = join(dirname(resolve(options.json)), `earshot-run${run}.log`);
      mkdirSync(dirname(kept), { recursive: true });
      copyFileSync(earshot.logPath, kept);
      log(`  run ${run}: Earshot's log kept in ${kept}`);
    }
    direct?.close();
    await Promise.allSettled([earshot?.stop(), floor?.stop(), standin?.stop()]);
    if (!process.env.KEEP_BENCH_DIR) rmSync(workDir, { recursive: true, force: true });
  }
}

/**
 * A first-audio scenario's call path inside each server (call-path-probe.ts): from a call's arrival to its
 * upstream request, the server's CPU time and the wall time, median over the scenario's measured calls. Where the
 * two are equal nothing on the way waits; Earshot's CPU beside the floor's is the work its call path adds. The
 * probe pairs each call with the next upstream request, which is exact in a (one call at a time) and in b too: a
 * server reads the next call of a burst only after the previous one's request is out (measured with a timeline of
 * both servers' diagnostics channels, twenty-first round), so a b sample is one call's own work, not its wait.
 */
function callPath(
  ctx: RunContext,
  files: Record<TargetName, ServerProbeFiles>,
  scenario: 'a' | 'b',
  window: TimeWindow,
): void {
  for (const name of TARGETS) {
    let samples: CallPathSample[];
    try {
      samples = JSON.parse(readFileSync(files[name].callPath, 'utf8')) as CallPathSample[];
    } catch (error) {
      ctx.note(`${scenario}, ${name}: no call-path samples (${describeError(error)})`);
      continue;
    }
    const measured = samples.filter(([arrivedAt]) => arrivedAt >= window.from && arrivedAt <= window.to);
    if (measured.length === 0) {
      ctx.note(`${scenario}, ${name}: the call-path probe paired no call with an upstream request`);
      continue;
    }
    ctx.record(
      `${scenario}.callPath.cpu`,
      name,
      percentile(
        measured.map(([, , cpuMs]) => cpuMs),
        50,
      ),
    );
    ctx.record(
      `${scenario}.callPath.wall`,
      name,
      percentile(
        measured.map(([, wallMs]) => wallMs),
        50,
      ),
    );
    ctx.extra(`${scenario}.callPath.${name}.samples`, measured.length);
  }
}

/**
 * Scenario c's pauses of the server's main thread for garbage collection (gc-probe.ts), in each burst: their total
 * (ms), and how many were scavenges and how many mark-compacts. No target: it tells how much of a burst's server CPU the collector took from the
 * event loop (its helper threads' share is in the by-thread split). A pause counts for the burst it began in.
 */
function gcPauses(
  ctx: RunContext,
  files: Record<TargetName, ServerProbeFiles>,
  name: TargetName,
  bursts: CrowdWindows,
): void {
  let pauses: GcPause[];
  try {
    pauses = JSON.parse(readFileSync(files[name].gc, 'utf8')) as GcPause[];
  } catch (error) {
    ctx.note(`c, ${name}: no GC pauses recorded (${describeError(error)})`);
    return;
  }
  // Over the server's whole life, whatever the bursts held: none at all would mean the probe saw nothing.
  ctx.extra(`c.${name}.gcPausesRecorded`, pauses.length);
  for (const [burst, window] of [
    ['gc', bursts.first],
    ['gcAgain', bursts.again],
  ] as const) {
    const during = pauses.filter(([startedAt]) => startedAt >= window.from && startedAt <= window.to);
    ctx.extra(
      `c.${name}.${burst}.pauseMs`,
      during.reduce((total, [, pauseMs]) => total + pauseMs, 0),
    );
    ctx.extra(`c.${name}.${burst}.scavenges`, during.filter(([, , kind]) => kind === 'scavenge').length);
    ctx.extra(
      `c.${name}.${burst}.markCompacts`,
      during.filter(([, , kind]) => kind === 'mark-compact').length,
    );
  }
}

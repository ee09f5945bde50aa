import type { RunContext, TimeWindow } from '../context.js';
import { summariseError } from '../errors.js';
import type { Player, StreamRecord } from '../player.js';
import { cpuByThread, cpuByThreadSince, cpuMs, RssPeak, statusKiB } from '../proc.js';
import { inBatches, percentile, range } from '../stats.js';
import { CALL_TIMEOUT_MS, type Speaker, type Target } from '../targets.js';

/** Handshakes in flight at once while connecting thousands of players. */
const CONNECTING_AT_ONCE = 100;

/**
 * Scenario c on one target: `users` users with `playersPerUser` players each, then `speaking` of them ask
 * for speech at the same moment (each with its own MCP client on Earshot, as separate agents would).
 *
 * - first audio: from the call to the first binary frame, at every player of every speaker (p95);
 * - delivery rate: the clip's duration ÷ the time from a player's first audio frame to its last. Playback
 *   starts at the first frame, so below 1.0× that player runs dry (audible gaps);
 * - server CPU: utime+stime of the whole process from just before the calls to the last stream's end; then the
 *   same users speak again, and that burst's CPU is reported too (past first use: no target);
 * - RSS: the peak of VmRSS, sampled every 100 ms from the first player's connection to the end.
 *
 * Returns when each burst ran, for what the probes inside the server recorded meanwhile (GC pauses, see harness.ts).
 */
export async function crowd(ctx: RunContext, target: Target): Promise<CrowdWindows> {
  const { users, playersPerUser, speaking } = ctx.options.sizes;
  ctx.extra(`c.${target.name}.rssBeforeMB`, (statusKiB(target.child.pid, 'VmRSS') * 1024) / 1e6);
  const rss = new RssPeak(target.child.pid);
  const players: Player[][] = [];
  const speakers: Speaker[] = [];
  try {
    const opened = await inBatches(range(users * playersPerUser), CONNECTING_AT_ONCE, (index) =>
      target.openPlayer(index % users),
    );
    for (const [index, player] of opened.entries()) (players[index % users] ??= []).push(player);
    speakers.push(...(await Promise.all(range(speaking).map((user) => target.speaker(user)))));
    // What the players cost at rest, apart from what speaking adds (the peak below covers both).
    ctx.extra(`c.${target.name}.rssConnectedMB`, (statusKiB(target.child.pid, 'VmRSS') * 1024) / 1e6);

    // One speech by a user who is not measured, so the first measured ones do not pay for first use.
    const warm = users - 1;
    const warmSpeaker = await target.speaker(warm);
    await listen(players[warm]!, () => warmSpeaker.speak(ctx.long[0]!.text));
    await warmSpeaker.close();

    const standinBefore = cpuMs(ctx.standin.pid);
    const loadBefore = process.cpuUsage();
    const before = cpuMs(target.child.pid);
    const threadsBefore = cpuByThread(target.child.pid);
    const failures: string[] = [];
    const burst = () =>
      Promise.all(
        range(speaking).map(async (user) => {
          const text = ctx.long[user % ctx.long.length]!;
          const records = await listen(players[user]!, () =>
            speakers[user]!.speak(text.text).catch((error: unknown) => {
              failures.push(summariseError(error));
              // Audio of a speech that started may still come: wait for it (bounded), then count it incomplete.
              for (const player of players[user]!) player.abandonAfter(10_000);
            }),
          );
          return records.map((record) => ({ record, seconds: text.seconds }));
        }),
      );
    const firstFrom = epochNow();
    const spoken = await burst();
    const first = { from: firstFrom, to: epochNow() };
    const cpu = cpuMs(target.child.pid) - before;
    const byThread = cpuByThreadSince(threadsBefore, cpuByThread(target.child.pid));
    for (const [kind, { userS, systemS }] of Object.entries(byThread)) {
      if (userS + systemS === 0) continue;
      ctx.extra(`c.${target.name}.cpu.${kind}.user`, userS);
      ctx.extra(`c.${target.name}.cpu.${kind}.system`, systemS);
    }
    const load = process.cpuUsage(loadBefore);
    ctx.extra(`c.${target.name}.standinCpuS`, (cpuMs(ctx.standin.pid) - standinBefore) / 1000);
    ctx.extra(`c.${target.name}.loadGeneratorCpuS`, (load.user + load.system) / 1e6);

    const streams = spoken.flat();
    const withAudio = streams.filter(({ record }) => record.firstAudioAt !== undefined);
    const rates = streams
      .filter(({ record }) => record.outcome === 'end' && record.lastAudioAt! > record.firstAudioAt!)
      .map(({ record, seconds }) => seconds / ((record.lastAudioAt! - record.firstAudioAt!) / 1000));
    const incomplete = streams.filter(({ record }) => record.outcome !== 'end').length;
    ctx.record(
      'c.firstAudio.p95',
      target.name,
      percentile(
        withAudio.map(({ record }) => record.firstAudioAt! - record.calledAt),
        95,
      ),
    );
    ctx.record('c.delivery.p5', target.name, percentile(rates, 5));
    ctx.record('c.delivery.min', target.name, Math.min(...rates));
    ctx.record('c.cpu', target.name, cpu / 1000);
    ctx.record('c.rss', target.name, rss.stop());
    ctx.record('c.incomplete', target.name, incomplete);

    // The same users speaking again: the server has now run this burst's code as often as a server in use has,
    // and each user has spoken before (settings read, audio folder made). What the burst above costs past first
    // use; no target of its own (the issue's figure is the one above).
    const againBefore = cpuMs(target.child.pid);
    const againFrom = epochNow();
    const again = (await burst()).flat();
    const againWindow = { from: againFrom, to: epochNow() };
    ctx.record('c.cpuAgain', target.name, (cpuMs(target.child.pid) - againBefore) / 1000);
    const againIncomplete = again.filter(({ record }) => record.outcome !== 'end').length;
    if (againIncomplete > 0)
      ctx.note(
        `c, ${target.name}, speaking again: ${againIncomplete} of ${again.length} player streams did not end normally`,
      );
    if (failures.length > 0)
      ctx.note(
        `c, ${target.name}: ${failures.length} calls failed (both bursts), e.g. ${failures[0]!.slice(0, 400)}`,
      );
    if (incomplete > 0) {
      const outcomes = new Map<string, number>();
      for (const { record } of streams) {
        if (record.outcome !== 'end')
          outcomes.set(String(record.outcome), (outcomes.get(String(record.outcome)) ?? 0) + 1);
      }
      ctx.note(
        `c, ${target.name}: ${incomplete} of ${streams.length} player streams did not end normally ` +
          `(${[...outcomes].map(([outcome, n]) => `${outcome} ×${n}`).join(', ')})`,
      );
    }
    return { first, again: againWindow };
  } finally {
    rss.stop();
    for (const player of players.flat()) player.close();
    await Promise.all(speakers.map((speaker) => speaker.close()));
  }
}

/** When scenario c's two bursts ran on one target. */
export interface CrowdWindows {
  readonly first: TimeWindow;
  readonly again: TimeWindow;
}

function epochNow(): number {
  return performance.timeOrigin + performance.now();
}

/** Arms every player for the next stream, makes the call, and waits for the call and every stream. */
async function listen(players: readonly Player[], call: () => Promise<void>): Promise<StreamRecord[]> {
  const calledAt = performance.now();
  const streams = players.map((player) => player.expect(calledAt, CALL_TIMEOUT_MS));
  await call();
  return Promise.all(streams);
}

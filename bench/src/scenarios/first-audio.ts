import type { RunContext, SpokenText } from '../context.js';
import { summariseError } from '../errors.js';
import type { Player, StreamRecord } from '../player.js';
import { percentile, range } from '../stats.js';
import { CALL_TIMEOUT_MS, TARGETS, type Speaker, type Target, type TargetName } from '../targets.js';

type Path = 'direct' | TargetName;
const PATHS: readonly Path[] = ['direct', ...TARGETS];

interface Side {
  readonly players: Player[];
  readonly speakers: Speaker[];
}

/** What a and b give back: each target's streams, and when the measured rounds began (after the warm-up). */
export interface FirstAudioResult {
  readonly streams: Record<TargetName, SpokenStream[]>;
  /** Milliseconds since the epoch (performance.timeOrigin + performance.now()). */
  readonly measuredFrom: number;
}

/** One speech through a target, as its player saw it. */
export interface SpokenStream {
  readonly record: StreamRecord;
  readonly text: SpokenText;
}

/**
 * Scenarios a and b (and f, from a's streams): `speakers` users each ask for one speech at the same
 * moment, through Earshot (MCP `speak` → the first binary frame at the user's player), through the floor
 * (POST → first binary frame) and directly from the stand-in (request → first NDJSON line), round after
 * round. The three paths take turns (their order rotates each round) and never overlap, so each sees the
 * same machine. A target's figure is its percentile minus the direct client's: what it adds.
 */
export async function firstAudio(
  ctx: RunContext,
  scenario: 'a' | 'b',
  speakers: number,
  rounds: number,
): Promise<FirstAudioResult> {
  const users = range(speakers);
  const texts = users.map((user) => ctx.short[user % ctx.short.length]!);
  const sides = new Map<TargetName, Side>();
  const targets: Record<TargetName, Target> = { earshot: ctx.earshot, floor: ctx.floor };
  try {
    for (const name of TARGETS) {
      const target = targets[name];
      const side: Side = { players: [], speakers: [] };
      sides.set(name, side);
      side.players.push(...(await Promise.all(users.map((user) => target.openPlayer(user)))));
      side.speakers.push(...(await Promise.all(users.map((user) => target.speaker(user)))));
    }
    const direct = () => Promise.all(texts.map((text) => ctx.direct.speak(text.text)));
    let calls = 0;
    let failures = 0;
    const through = async (name: TargetName): Promise<SpokenStream[]> => {
      const side = sides.get(name)!;
      const spoken = await Promise.all(
        users.map(async (user): Promise<SpokenStream | undefined> => {
          const text = texts[user]!;
          const player = side.players[user]!;
          const calledAt = performance.now();
          const stream = player.expect(calledAt, CALL_TIMEOUT_MS);
          calls++;
          try {
            await side.speakers[user]!.speak(text.text);
          } catch (error) {
            // Kept as a note, not a sample: one failed call must not lose the run, nor hide in a percentile.
            failures++;
            ctx.note(`${scenario}, ${name}: a call failed: ${summariseError(error)}`);
            // Audio of a speech that started may still come: let it end (bounded) before the next round.
            player.abandonAfter(10_000);
            await stream;
            return undefined;
          }
          const record = await stream;
          if (record.firstAudioAt === undefined)
            throw new Error(`scenario ${scenario}: a player got no audio (${record.outcome})`);
          return { record, text };
        }),
      );
      if (failures > Math.max(1, calls / 10))
        throw new Error(`scenario ${scenario}: ${failures} of ${calls} calls failed (see the notes)`);
      return spoken.filter((stream) => stream !== undefined);
    };

    // Warm-up (not measured): connections, the server's caches and the JIT, once per path.
    await direct();
    for (const name of TARGETS) await through(name);

    const measuredFrom = performance.timeOrigin + performance.now();
    const times: Record<Path, number[]> = { direct: [], earshot: [], floor: [] };
    const streams: Record<TargetName, SpokenStream[]> = { earshot: [], floor: [] };
    for (let round = 0; round < rounds; round++) {
      for (let turn = 0; turn < PATHS.length; turn++) {
        const path = PATHS[(round + turn) % PATHS.length]!;
        if (path === 'direct') {
          times.direct.push(...(await direct()).map((result) => result.firstAudioMs));
          continue;
        }
        const spoken = await through(path);
        streams[path].push(...spoken);
        times[path].push(...spoken.map(({ record }) => record.firstAudioAt! - record.calledAt));
      }
    }
    for (const p of [50, 95]) {
      const direct = percentile(times.direct, p);
      ctx.extra(`${scenario}.direct.p${p}`, direct);
      for (const name of TARGETS) {
        const value = percentile(times[name], p);
        ctx.extra(`${scenario}.${name}.p${p}`, value);
        ctx.record(`${scenario}.overhead.p${p}`, name, value - direct);
      }
    }
    ctx.extra(`${scenario}.samples`, times.direct.length);
    ctx.extra(`${scenario}.failedCalls`, failures);
    return { streams, measuredFrom };
  } finally {
    for (const side of sides.values()) {
      for (const player of side.players) player.close();
      await Promise.all(side.speakers.map((speaker) => speaker.close()));
    }
  }
}

/** Scenario f: what each player received per second of speech (audio duration from the direct client's PCM). */
export function bandwidth(ctx: RunContext, streams: Record<TargetName, SpokenStream[]>): void {
  for (const name of TARGETS) {
    const complete = streams[name].filter(({ record }) => record.outcome === 'end');
    if (complete.length === 0) continue;
    const kbps = (bytes: (record: StreamRecord) => number) =>
      percentile(
        complete.map(({ record, text }) => (bytes(record) * 8) / text.seconds / 1000),
        50,
      );
    ctx.record(
      'f.audio',
      name,
      kbps((record) => record.audioBytes),
    );
    ctx.record(
      'f.frames',
      name,
      kbps((record) => record.audioBytes + record.textBytes),
    );
  }
}

import { parseArgs } from 'node:util';
import { SCENARIOS, type ScenarioId } from './figures.js';

export const USAGE = `Usage: npm run bench -- [--runs N] [--only a,b,...] [--quick] [--json FILE] [options]

Starts the ElevenLabs stand-in (prerendered audio), Earshot and a floor relay as separate processes (pinned:
the server under test alone on one CPU, stand-in and load generator on another), runs the scenarios against
Earshot and the floor in the same run, prints a table per scenario and writes JSON.

  --runs N             repeat everything N times (fresh processes) and report min/median/max (default 1)
  --only LIST          scenarios to run, comma-separated: a,b,c,d,e,f (default all; f comes with a)
  --quick              small sizes, for a smoke run
  --json FILE          where to write the results (default bench/results/bench.json)
  --first-byte-ms N    stand-in: time to first byte (default 300, like the real API)
  --rtf N              stand-in: audio delivered N× faster than real time (default 2)
  --users N            scenario c: users with players (default 1000; quick 6)
  --players N          scenario c: players per user (default 5; quick 2)
  --speaking N         scenario c: users speaking at once (default 200; quick 3)
  --server-log-level L EARSHOT_LOG_LEVEL for the server under test (default: unset, i.e. info, as deployed)
  --server-node-args S node options for the server under test, space-separated, before its script (V8 flags
                       to compare, e.g. "--max-semi-space-size=32"; default none)
  --server-cpu-prof DIR  run Earshot (the long-running server of each run) with node --cpu-prof, writing its
                       .cpuprofile into DIR when it stops (open it in Chrome DevTools or speedscope)
  --server-cpu-prof-interval US  sampling interval of that profile in µs (default Node's 1000). Finer shows a
                       single speech's path, at a cost to the figures; pinned, the sampler shares the server's
                       core and samples late while it is busy (gaps of ms): add --no-pin to see the fine grain
  --no-pin             do not pin processes to CPUs

Environment: KEEP_BENCH_DIR=1 keeps each run's temporary folder (server logs, data) instead of removing it.`;

export interface Sizes {
  /** a: rounds of one speaker. */
  readonly roundsSingle: number;
  /** b: speakers at once, and rounds of them. */
  readonly concurrentSpeakers: number;
  readonly roundsConcurrent: number;
  /** c */
  readonly users: number;
  readonly playersPerUser: number;
  readonly speaking: number;
  /** d: calls of each kind. */
  readonly calls: number;
  /** e: start-ups of each kind (the first with an empty compile cache, the others reading it). */
  readonly startups: number;
}

export interface BenchOptions {
  readonly runs: number;
  readonly only: ReadonlySet<ScenarioId>;
  readonly quick: boolean;
  readonly json: string;
  readonly pacing: { readonly firstByteLatencyMs: number; readonly realtimeFactor: number };
  readonly sizes: Sizes;
  readonly serverLogLevel: string | undefined;
  /** Node options for Earshot (before its script), when asked. */
  readonly serverNodeArgs: readonly string[];
  /** Where Earshot writes a CPU profile (node --cpu-prof), when asked. */
  readonly serverCpuProf: string | undefined;
  /** Its sampling interval in µs (node --cpu-prof-interval), when not Node's default. */
  readonly serverCpuProfInterval: number | undefined;
  readonly pin: boolean;
}

// Full sizes are the issue's; rounds are as many as fit a few minutes per run (each round waits for
// every stream to end, so the paths never overlap).
const FULL: Sizes = {
  roundsSingle: 30,
  concurrentSpeakers: 20,
  roundsConcurrent: 5,
  users: 1000,
  playersPerUser: 5,
  speaking: 200,
  calls: 1000,
  startups: 4,
};
const QUICK: Sizes = {
  roundsSingle: 2,
  concurrentSpeakers: 3,
  roundsConcurrent: 1,
  users: 6,
  playersPerUser: 2,
  speaking: 3,
  calls: 20,
  startups: 2,
};

function count(value: string | undefined, name: string, fallback: number, min = 1): number {
  if (value === undefined) return fallback;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < min) throw new Error(`--${name} needs an integer ≥ ${min}`);
  return parsed;
}

export function parseOptions(argv: readonly string[]): BenchOptions | 'help' {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      runs: { type: 'string' },
      only: { type: 'string' },
      quick: { type: 'boolean' },
      json: { type: 'string' },
      'first-byte-ms': { type: 'string' },
      rtf: { type: 'string' },
      users: { type: 'string' },
      players: { type: 'string' },
      speaking: { type: 'string' },
      'server-log-level': { type: 'string' },
      'server-cpu-prof': { type: 'string' },
      'server-node-args': { type: 'string' },
      'server-cpu-prof-interval': { type: 'string' },
      'no-pin': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return 'help';
  const only = new Set<ScenarioId>();
  for (const id of (values.only ?? SCENARIOS.join(',')).split(',').map((part) => part.trim())) {
    if (!SCENARIOS.includes(id as ScenarioId))
      throw new Error(`--only: unknown scenario "${id}" (a, b, c, d, e, f)`);
    only.add(id as ScenarioId);
  }
  const base = values.quick ? QUICK : FULL;
  const sizes: Sizes = {
    ...base,
    users: count(values.users, 'users', base.users, 2),
    playersPerUser: count(values.players, 'players', base.playersPerUser),
    speaking: count(values.speaking, 'speaking', base.speaking),
  };
  // One user stays silent: it warms the server up before the measured speeches.
  if (sizes.speaking >= sizes.users) throw new Error('--speaking must be smaller than --users');
  const rtf = Number(values.rtf ?? 2);
  const firstByte = Number(values['first-byte-ms'] ?? 300);
  // Unpaced audio arrives in one burst: a delivery rate would mean nothing.
  if (!(rtf > 0 && Number.isFinite(rtf))) throw new Error('--rtf needs a number > 0');
  if (!(firstByte >= 0)) throw new Error('--first-byte-ms needs a number ≥ 0');
  return {
    runs: count(values.runs, 'runs', 1),
    only,
    quick: values.quick === true,
    json: values.json ?? 'bench/results/bench.json',
    pacing: { firstByteLatencyMs: firstByte, realtimeFactor: rtf },
    sizes,
    serverLogLevel: values['server-log-level'],
    serverCpuProf: values['server-cpu-prof'],
    serverNodeArgs: (values['server-node-args'] ?? '').split(' ').filter((arg) => arg !== ''),
    serverCpuProfInterval:
      values['server-cpu-prof-interval'] === undefined
        ? undefined
        : count(values['server-cpu-prof-interval'], 'server-cpu-prof-interval', 1000, 10),
    pin: values['no-pin'] !== true,
  };
}

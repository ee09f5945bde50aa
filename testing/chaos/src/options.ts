export const SCENARIOS = [
  'fuzz-offline',
  'fuzz-elevenlabs',
  'upstream-faults',
  'slow-sockets',
  'kill-9',
  'full-disk',
  'local-key',
] as const;
export type ScenarioName = (typeof SCENARIOS)[number];

export interface ChaosOptions {
  readonly seed: number;
  /** Fuzz inputs in all, split between the offline engine and the ElevenLabs stand-in. */
  readonly inputs: number;
  /** Share of the inputs sent to the server that uses the stand-in (upstream faults injected there). */
  readonly elevenLabsShare: number;
  /** Share of stand-in inputs preceded by an injected upstream fault. */
  readonly faultRate: number;
  /** Fuzz inputs in flight at once. Eight keep both cores busy without the harness becoming the bottleneck. */
  readonly concurrency: number;
  readonly slowSockets: number;
  /** Bytes trickle in this often on slow sockets. */
  readonly slowIntervalMs: number;
  /**
   * How long the server may keep a slow socket (headers or body never finished) open. On a server with
   * request timeouts it closes them sooner; on one without, they show as hangs. See `slowServerEnv`.
   */
  readonly slowBoundMs: number;
  /**
   * Environment for the slow-socket server, asking for timeouts shorter than `slowBoundMs`. The names are
   * the ones proposed for the HTTP timeouts (issue 8); unknown variables are ignored by the server, so
   * passing them is harmless on a server that does not read them. Override with --server-env NAME=VALUE.
   */
  readonly slowServerEnv: Readonly<Record<string, string>>;
  readonly kills: number;
  /** 'auto': mount a tmpfs as root, else in a private user+mount namespace; 'off' reports "not run". */
  readonly fullDisk: 'auto' | 'mount' | 'unshare' | 'off';
  /** Stall the stand-in for a minute mid-stream once (a minute of wall time; the full run only). */
  readonly longStall: boolean;
  /**
   * Growth of live memory (V8 heap used + external, read through the inspector after a forced full GC)
   * tolerated between the warmed-up baseline and the end of a fuzz run. What legitimately accumulates is
   * small: the in-memory history index (a few hundred bytes per speech), compiled code, caches. A leak
   * of a request's worth per input (a body, an audio chunk, a closure over a socket) passes it within a
   * few thousand inputs.
   */
  readonly liveGrowthBoundMiB: number;
  /**
   * RSS growth tolerated, also read after the forced GC (which makes V8 give back most of the heap it
   * committed under load: ≈500 MiB falls to ≈240 MiB here). What remains is glibc's freed arenas and the
   * Flite WebAssembly memory, which never shrinks after a long utterance (+30–50 MiB measured over a
   * few thousand inputs). It catches native leaks of real size; heap leaks are the bound above.
   */
  readonly rssGrowthBoundMiB: number;
  /** Run the fault scenarios beside the fuzzers (the short run's time budget) instead of after them. */
  readonly parallel: boolean;
  readonly scenarios: readonly ScenarioName[];
  readonly json: string | undefined;
  /** Run only this fuzz input (with the same seed) and print it with its answer. */
  readonly replay: number | undefined;
}

export const FULL: ChaosOptions = {
  seed: 1,
  inputs: 10_000,
  elevenLabsShare: 0.3,
  faultRate: 0.05,
  concurrency: 8,
  slowSockets: 200,
  slowIntervalMs: 1_000,
  slowBoundMs: 20_000,
  slowServerEnv: { EARSHOT_HEADERS_TIMEOUT_MS: '5000', EARSHOT_REQUEST_TIMEOUT_MS: '10000' },
  kills: 3,
  fullDisk: 'auto',
  longStall: true,
  liveGrowthBoundMiB: 48,
  rssGrowthBoundMiB: 192,
  parallel: false,
  scenarios: SCENARIOS,
  json: undefined,
  replay: undefined,
};

/** The version inside `npm test`: the same scenarios, smaller, within about 40 s on two cores. */
export const SHORT: ChaosOptions = {
  ...FULL,
  inputs: 1_000,
  slowSockets: 40,
  slowIntervalMs: 500,
  slowBoundMs: 5_000,
  slowServerEnv: { EARSHOT_HEADERS_TIMEOUT_MS: '1500', EARSHOT_REQUEST_TIMEOUT_MS: '3000' },
  kills: 1,
  longStall: false,
  parallel: true,
};

const USAGE = `Usage: npm run chaos -- [options]

  --seed N            PRNG seed (default 1; printed with every run)
  --inputs N          fuzz inputs in all (default 10000)
  --concurrency N     inputs in flight (default 8)
  --slow-sockets N    slow-header and slow-body sockets (default 200)
  --slow-bound-ms N   how long the server may keep a slow socket open (default 20000)
  --server-env K=V    environment for the slow-socket server (repeatable; default asks for short timeouts)
  --kills N           kill -9 rounds (default 3)
  --full-disk MODE    auto | mount | unshare | off (default auto)
  --no-long-stall     skip the minute-long upstream stall
  --live-bound-mib N  tolerated growth of live memory after a forced GC (default 48)
  --rss-bound-mib N   tolerated RSS growth (default 192)
  --only A,B          scenarios: ${SCENARIOS.join(', ')}
  --short             the npm test sizes (1000 inputs, 40 slow sockets, one kill)
  --json FILE         also write the results as JSON
  --replay N          run fuzz input N of the seed alone, print it and its answer`;

export class UsageError extends Error {}

export function parseArgs(argv: readonly string[]): ChaosOptions {
  let options: ChaosOptions = argv.includes('--short') ? SHORT : FULL;
  const env: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    const value = () => {
      const next = argv[++i];
      if (next === undefined) throw new UsageError(`${flag} needs a value\n\n${USAGE}`);
      return next;
    };
    const count = (min: number) => {
      const n = Number(value());
      if (!Number.isInteger(n) || n < min)
        throw new UsageError(`${flag} needs an integer ≥ ${min}\n\n${USAGE}`);
      return n;
    };
    switch (flag) {
      case '--seed':
        options = { ...options, seed: count(0) };
        break;
      case '--inputs':
        options = { ...options, inputs: count(0) };
        break;
      case '--concurrency':
        options = { ...options, concurrency: count(1) };
        break;
      case '--slow-sockets':
        options = { ...options, slowSockets: count(0) };
        break;
      case '--slow-bound-ms':
        options = { ...options, slowBoundMs: count(100) };
        break;
      case '--server-env': {
        const [name, ...rest] = value().split('=');
        if (!name || rest.length === 0) throw new UsageError(`--server-env needs NAME=VALUE\n\n${USAGE}`);
        env[name] = rest.join('=');
        break;
      }
      case '--kills':
        options = { ...options, kills: count(0) };
        break;
      case '--full-disk': {
        const mode = value();
        if (mode !== 'auto' && mode !== 'mount' && mode !== 'unshare' && mode !== 'off')
          throw new UsageError(`bad --full-disk\n\n${USAGE}`);
        options = { ...options, fullDisk: mode };
        break;
      }
      case '--no-long-stall':
        options = { ...options, longStall: false };
        break;
      case '--live-bound-mib':
        options = { ...options, liveGrowthBoundMiB: count(1) };
        break;
      case '--rss-bound-mib':
        options = { ...options, rssGrowthBoundMiB: count(1) };
        break;
      case '--only': {
        const names = value().split(',');
        const unknown = names.filter((name) => !(SCENARIOS as readonly string[]).includes(name));
        if (unknown.length > 0) throw new UsageError(`unknown scenario ${unknown.join(', ')}\n\n${USAGE}`);
        options = { ...options, scenarios: names as ScenarioName[] };
        break;
      }
      case '--short':
        break;
      case '--json':
        options = { ...options, json: value() };
        break;
      case '--replay':
        options = { ...options, replay: count(0) };
        break;
      case '--help':
      case '-h':
        throw new UsageError(USAGE);
      default:
        throw new UsageError(`unknown option ${flag}\n\n${USAGE}`);
    }
  }
  if (Object.keys(env).length > 0) options = { ...options, slowServerEnv: env };
  return options;
}

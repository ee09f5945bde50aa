import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { hasStack, HistoryPool, inspectHttp, type Inspection } from './classify.js';
import { sendRaw, type RawResponse } from './http-raw.js';
import { REAL_USER, type KeyScanner, type Keys } from './keys.js';
import { Inspector, type LiveMemory } from './inspector.js';
import { describeFds, type ProcSample } from './proc.js';
import { ServerProcess } from './server-process.js';
import { keepTempDir, makeTempDir, removeTempDir } from './temp-dirs.js';
import type { Tally } from './tally.js';

export interface TargetOptions {
  readonly keys: Keys;
  readonly scanner: KeyScanner;
  /** Extra server environment: the engine, and the timeouts the suite asks for (see options.ts). */
  readonly env: Readonly<Record<string, string>>;
  /** Use this data directory (kept by the caller); default: a fresh temp dir removed on stop. */
  readonly dataDir?: string;
  readonly wrapper?: readonly string[];
  /** The real user's key when it is not carol's (a local install's single key, known only after start). */
  readonly realKey?: () => string;
  /** Start the server with its inspector open, so live memory can be read after a forced GC. */
  readonly inspect?: boolean;
}

/** A speech the real user asked for, and whether it worked end to end. */
export interface RealSpeech {
  readonly ok: boolean;
  readonly ms: number;
  readonly detail: string;
  readonly response: RawResponse;
}

/**
 * One Earshot process under test, with what every scenario needs around it: restart on the same data,
 * speech as the real user, descriptor and player baselines, and the end-of-run checks.
 */
export class Target {
  readonly pool = new HistoryPool();
  private readonly ownsDataDir: boolean;
  /** Output of earlier processes (before a crash or a kill), still scanned for secrets at the end. */
  private earlierOutput = '';
  private earlierCpuMs = 0;

  private constructor(
    readonly options: TargetOptions,
    readonly dataDir: string,
    public server: ServerProcess,
  ) {
    this.ownsDataDir = options.dataDir === undefined;
  }

  static async start(options: TargetOptions): Promise<Target> {
    const dataDir = options.dataDir ?? makeTempDir('earshot-chaos-');
    try {
      return new Target(options, dataDir, await ServerProcess.start(serverOptions(options, dataDir)));
    } catch (error) {
      if (options.dataDir === undefined) removeTempDir(dataDir);
      throw error;
    }
  }

  get port(): number {
    return Number(new URL(this.server.url).port);
  }

  get url(): string {
    return this.server.url;
  }

  /** A new process on the same data directory (after a crash or a kill -9). */
  async restart(): Promise<void> {
    if (this.server.alive) {
      this.earlierCpuMs += this.server.sample()?.cpuMs ?? 0;
      await this.server.kill('SIGKILL');
    }
    this.earlierOutput += this.server.output();
    this.server = await ServerProcess.start(serverOptions(this.options, this.dataDir));
  }

  keyOf = (user: string): string => {
    const key = (this.options.keys.byUser as Record<string, string>)[user];
    if (!key) throw new Error(`no key for ${user}`);
    return key;
  };

  /** A request as the real user (never fuzzed), with a deadline. */
  request(method: string, path: string, body?: unknown, deadlineMs = 10_000): Promise<RawResponse> {
    return sendRaw(this.port, {
      method,
      path,
      headers: [
        ['Authorization', `Bearer ${this.options.realKey?.() ?? this.keyOf(REAL_USER)}`],
        ['Accept', 'application/json, text/event-stream'],
        ...(body === undefined ? [] : [['Content-Type', 'application/json'] as [string, string]]),
      ],
      ...(body === undefined ? {} : { body: Buffer.from(JSON.stringify(body)) }),
      deadlineMs,
    });
  }

  /** The real user speaks through REST (or MCP): it must complete within the deadline. */
  async realSpeak(text: string, via: 'rest' | 'mcp', deadlineMs: number): Promise<RealSpeech> {
    const response =
      via === 'rest'
        ? await this.request('POST', '/api/v1/speak', { text, fresh: true }, deadlineMs)
        : await this.request(
            'POST',
            '/mcp',
            {
              jsonrpc: '2.0',
              id: 1,
              method: 'tools/call',
              params: { name: 'speak', arguments: { text, fresh: true } },
            },
            deadlineMs,
          );
    const body = response.body.toString('utf8');
    const completed = /"status"\s*:\s*\\?"completed\\?"/.test(body) && !/"isError"\s*:\s*true/.test(body);
    const ok = response.outcome === 'response' && response.status === 200 && completed;
    return {
      ok,
      ms: Math.round(response.ms ?? 0),
      detail: ok ? 'completed' : `${response.outcome} ${response.status} ${body.slice(0, 200)}`,
      response,
    };
  }

  /**
   * Makes the server load, once, what it loads only on first use, so the memory baseline is taken after it: the
   * ElevenLabs SDK (about 50 MiB of live heap, loaded for the account's subscription and the studio tools) and
   * the Opus codec's WebAssembly heap (16 MiB, for a WAV download of stored Opus). Loaded later, either would
   * count as growth that survives a GC, though it never grows again. Answers do not matter here (offline has
   * no subscription), only that each path was taken.
   */
  async loadLazyParts(warm: RealSpeech): Promise<void> {
    await this.request('GET', '/api/v1/usage', undefined, 30_000);
    const id = /"id"\s*:\s*\\?"([A-Za-z0-9_-]+)\\?"/.exec(warm.response.body.toString('utf8'))?.[1];
    if (id) await this.request('GET', `/api/v1/history/${id}/audio?format=wav`, undefined, 30_000);
  }

  /** Players the server believes are connected, from its own log lines. */
  playersConnected(): number {
    let players = 0;
    for (const line of this.server.logs()) {
      if (line.msg === 'player connected') players++;
      if (line.msg === 'player disconnected') players--;
    }
    return players;
  }

  /**
   * Waits (bounded) until the server's log shows `count` players connected: info lines reach the log in
   * batches (within a second), so a count read straight after a player connects can miss it.
   */
  async untilPlayersLogged(count: number, boundMs = 10_000): Promise<void> {
    const deadline = performance.now() + boundMs;
    while (this.playersConnected() < count) {
      if (performance.now() >= deadline)
        throw new Error(`the server did not log ${count} connected player(s) within ${boundMs} ms`);
      await sleep(50);
    }
  }

  sample(): ProcSample | undefined {
    return this.server.sample();
  }

  /**
   * The quietest of a few samples, with what the descriptors point at (for the leak report): connections
   * of the requests just made may still be closing, and must not inflate the baseline.
   */
  async baseline(): Promise<(ProcSample & { fdTargets: string }) | undefined> {
    let best: ProcSample | undefined;
    for (let i = 0; i < 4; i++) {
      if (i > 0) await sleep(200);
      const sample = this.server.sample();
      if (sample && (!best || sample.fds < best.fds)) best = sample;
    }
    return best && { ...best, fdTargets: describeFds(this.server.pid) };
  }

  /**
   * Waits (bounded) for descriptors and players to come back to the baseline; a leak if they do not.
   * Sockets close asynchronously after clients leave, so this polls instead of sampling once.
   */
  async checkSettled(
    tally: Tally,
    baseline: ProcSample & { fdTargets?: string },
    players: number,
    boundMs: number,
  ): Promise<ProcSample | undefined> {
    // Outbound sockets (keep-alive connections to ElevenLabs) come and go with the pool; what must come
    // back is the files, the connections of clients, and everything else (two of slack for the store).
    const unsettled = (now: ProcSample) => {
      const problems: string[] = [];
      const files = now.files.filter((file) => !baseline.files.includes(file));
      if (files.length > 0) problems.push(`${files.length} files open that were not at the baseline`);
      if (now.inbound > baseline.inbound)
        problems.push(`client connections ${baseline.inbound}→${now.inbound}`);
      if (now.other > baseline.other + 2) problems.push(`other descriptors ${baseline.other}→${now.other}`);
      if (this.playersConnected() > players) problems.push(`players ${players}→${this.playersConnected()}`);
      return problems;
    };
    const deadline = performance.now() + boundMs;
    let now = this.sample();
    while (now && unsettled(now).length > 0 && performance.now() < deadline) {
      await sleep(250);
      now = this.sample();
    }
    if (!now) return undefined;
    const problems = unsettled(now);
    if (problems.length > 0) {
      tally.find(
        'leak',
        `not back to the baseline ${boundMs} ms after the last input: ${problems.join('; ')}`,
        {
          response: `open now: ${describeFds(this.server.pid)}; at the baseline: ${baseline.fdTargets ?? '?'}`,
        },
      );
    }
    return now;
  }

  /** Live memory after a forced full GC, through the inspector (undefined without `inspect`). */
  async liveMemory(): Promise<LiveMemory | undefined> {
    const url = this.server.inspectorUrl;
    if (!url) return undefined;
    const inspector = await Inspector.connect(url);
    try {
      return await inspector.liveMemory();
    } finally {
      // Connected, the inspector would make the server wait for it at exit.
      inspector.close();
    }
  }

  inspection(tally: Tally, index?: number, input?: string): Inspection {
    return {
      tally,
      scanner: this.options.scanner,
      pool: this.pool,
      ...(index === undefined ? {} : { index }),
      ...(input === undefined ? {} : { input }),
    };
  }

  /** Classifies a response the suite itself asked for (not a fuzz input). */
  inspect(tally: Tally, what: string, method: string, path: string, response: RawResponse): void {
    inspectHttp(
      this.inspection(tally, undefined, what),
      { method, path, channel: path === '/mcp' ? 'mcp' : 'rest' },
      response,
    );
  }

  /**
   * Graceful stop (SIGTERM, bounded), then the output checks: no secret anywhere the process printed,
   * and error-level log lines listed in the notes.
   */
  async stop(tally: Tally, boundMs = 15_000): Promise<void> {
    const cpuMs = (this.server.sample()?.cpuMs ?? 0) + this.earlierCpuMs;
    if (cpuMs > 0) tally.note(`server CPU ${(cpuMs / 1000).toFixed(1)} s`);
    if (this.server.alive) {
      let stuck = '';
      // What the process still holds when it will not stop: the connections and files keeping it up.
      const tookMs = await this.server.stop(boundMs, () => {
        const lastLogs = this.server
          .logs()
          .slice(-3)
          .map((line) => line.msg);
        stuck = `open: ${describeFds(this.server.pid)}; last log lines: ${lastLogs.join(' | ')}`;
      });
      if (tookMs === undefined) {
        tally.find('hang', `graceful shutdown (SIGTERM) did not finish within ${boundMs} ms`, {
          response: this.options.scanner.redact(stuck),
        });
      } else if (this.server.exitStatus?.code !== 0) {
        tally.find('crash', `exited with ${JSON.stringify(this.server.exitStatus)} on SIGTERM`, {
          response: this.options.scanner.redact(this.server.stderrText.slice(-800)),
        });
      } else tally.note(`graceful stop in ${Math.round(tookMs)} ms`);
    }
    this.scanOutput(tally);
    if (process.env.CHAOS_KEEP) {
      // Debugging aid: keep the data and everything the server printed (keys redacted).
      writeFileSync(
        join(this.dataDir, 'server-output.log'),
        this.options.scanner.redact(this.earlierOutput + this.server.output()),
      );
      keepTempDir(this.dataDir);
      tally.note(`kept ${this.dataDir} (CHAOS_KEEP)`);
    } else if (this.ownsDataDir) removeTempDir(this.dataDir);
  }

  scanOutput(tally: Tally): void {
    const output = this.earlierOutput + this.server.output();
    for (const label of this.options.scanner.scan(output)) {
      const lines = output.split('\n').filter((line) => this.options.scanner.scan(line).includes(label));
      tally.find('key', `${label} in the server's stdout/stderr (${lines.length} lines)`, {
        response: this.options.scanner.redact(lines.slice(0, 3).join(' | ')).slice(0, 600),
      });
    }
    const errors = new Map<string, number>();
    for (const line of this.server.logs()) {
      if ((line.level ?? 0) >= 50) errors.set(String(line.msg), (errors.get(String(line.msg)) ?? 0) + 1);
    }
    if (errors.size > 0) {
      tally.note(`error-level log lines: ${[...errors].map(([msg, n]) => `"${msg}" ×${n}`).join(', ')}`);
    }
    // Raw (non-JSON) stderr means something bypassed the logger: an uncaught error or a warning.
    const stderr = this.server.stderrText.trim();
    if (stderr) tally.note(`stderr: ${this.options.scanner.redact(stderr.slice(0, 300))}`);
    if (hasStack(stderr))
      tally.find('stack', 'a raw stack trace on stderr', {
        response: this.options.scanner.redact(stderr.slice(0, 800)),
      });
  }
}

function serverOptions(options: TargetOptions, dataDir: string) {
  return {
    env: {
      EARSHOT_DATA_DIR: dataDir,
      EARSHOT_API_KEYS: options.keys.apiKeysEnv,
      // Speech in flight at a graceful stop gets this long; the suite stops servers often.
      EARSHOT_DRAIN_TIMEOUT_MS: '2000',
      ...options.env,
    },
    ...(options.wrapper ? { wrapper: options.wrapper } : {}),
    ...(options.inspect ? { inspect: true } : {}),
  };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

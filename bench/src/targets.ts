import { createHash, randomBytes } from 'node:crypto';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { VOICE_ID } from './direct.js';
import { McpHttpClient } from './mcp-http.js';
import { Player } from './player.js';
import { Child, ENTRY, freePort, until200 } from './processes.js';

export type TargetName = 'earshot' | 'floor';
export const TARGETS: readonly TargetName[] = ['earshot', 'floor'];

/** User names, the same on both targets: u0001, u0002, … */
export const userName = (index: number): string => `u${String(index + 1).padStart(4, '0')}`;

/** One user's way to ask for speech: an MCP client for Earshot, a plain POST for the floor. */
export interface Speaker {
  /** Resolves when the target answers (Earshot: the tool's result, once the audio is generated). */
  speak(text: string): Promise<void>;
  close(): Promise<void>;
}

export interface Target {
  readonly name: TargetName;
  readonly child: Child;
  readonly url: string;
  openPlayer(user: number): Promise<Player>;
  speaker(user: number): Promise<Speaker>;
  stop(): Promise<void>;
}

/** Bench keys for every user, and the EARSHOT_API_KEYS value (hashes) the server is started with. */
export class UserKeys {
  private readonly keys: string[];

  constructor(readonly count: number) {
    this.keys = Array.from({ length: count }, () => randomBytes(24).toString('base64url'));
  }

  key(user: number): string {
    const key = this.keys[user];
    if (key === undefined) throw new Error(`user ${user} has no key (${this.count} users configured)`);
    return key;
  }

  get apiKeysEnv(): string {
    return this.keys
      .map((key, user) => `${userName(user)}:${createHash('sha256').update(key).digest('hex')}`)
      .join(',');
  }
}

/** Speeches can queue behind 200 others on a loaded machine: generous, but bounded. */
export const CALL_TIMEOUT_MS = 180_000;

export interface EarshotStart {
  readonly cpu: number | undefined;
  readonly upstreamUrl: string;
  readonly upstreamKey: string;
  readonly keys: UserKeys;
  readonly dataDir: string;
  /** Players the scenarios open at most: the socket caps are raised above it. */
  readonly maxSockets: number;
  /** EARSHOT_LOG_LEVEL, when not the default (info, as deployed). */
  readonly logLevel: string | undefined;
  /** Node options for the server, before its script (V8 flags to compare, e.g. --max-semi-space-size=32). */
  readonly nodeArgs: readonly string[];
  /** Profile the server (node --cpu-prof) into this directory; written when it stops. */
  readonly cpuProfDir?: string | undefined;
  /** That profile's sampling interval in µs (Node's default when unset). */
  readonly cpuProfIntervalUs?: number | undefined;
  /** Where the probes inside the server write what they recorded when it exits (see ServerProbeFiles). */
  readonly probeFiles: ServerProbeFiles;
}

/** Where the probes loaded into a server write: call-path-probe.ts its calls, gc-probe.ts its GC pauses. */
export interface ServerProbeFiles {
  readonly callPath: string;
  readonly gc: string;
}

/** Node options and environment that load the probes (call-path-probe.ts, gc-probe.ts) into a server. */
function serverProbes(files: ServerProbeFiles): {
  readonly nodeArgs: string[];
  readonly env: Record<string, string>;
} {
  return {
    nodeArgs: [
      '--import',
      pathToFileURL(ENTRY.callPathProbe).href,
      '--import',
      pathToFileURL(ENTRY.gcProbe).href,
    ],
    env: { EARSHOT_BENCH_CALL_PATH_FILE: files.callPath, EARSHOT_BENCH_GC_FILE: files.gc },
  };
}

/** The server environment the benchmark sets, besides keys and data: printed with the results. */
export function earshotBenchEnv(maxSockets: number): Record<string, string> {
  return {
    // 5,000 players come from one address (the load generator) and exceed the default total of 4,096.
    EARSHOT_MAX_CONNECTIONS_PER_CLIENT: '0',
    EARSHOT_MAX_CONNECTIONS: String(Math.max(20_000, maxSockets + 1000)),
    // Stops between runs should not wait 20 s for speech in flight.
    EARSHOT_DRAIN_TIMEOUT_MS: '1000',
  };
}

/** `earshot serve` as its own process; its log goes to a file so a busy load generator never holds it up. */
export async function startEarshot(options: EarshotStart): Promise<EarshotTarget> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const logPath = join(options.dataDir, `server-${port}.log`);
    const log = openSync(logPath, 'a');
    const profile = options.cpuProfDir
      ? [
          '--cpu-prof',
          '--cpu-prof-dir',
          options.cpuProfDir,
          ...(options.cpuProfIntervalUs ? ['--cpu-prof-interval', String(options.cpuProfIntervalUs)] : []),
        ]
      : [];
    const probe = serverProbes(options.probeFiles);
    const args = [...profile, ...probe.nodeArgs, ...options.nodeArgs, ENTRY.earshot, 'serve'];
    const child = Child.spawn('earshot serve', args, {
      cpu: options.cpu,
      stdio: ['ignore', log, log],
      env: {
        ...probe.env,
        HOST: '127.0.0.1',
        PORT: String(port),
        ELEVENLABS_API_KEY: options.upstreamKey,
        ELEVENLABS_BASE_URL: options.upstreamUrl,
        EARSHOT_API_KEYS: options.keys.apiKeysEnv,
        EARSHOT_DATA_DIR: join(options.dataDir, 'earshot'),
        ...earshotBenchEnv(options.maxSockets),
        ...(options.logLevel ? { EARSHOT_LOG_LEVEL: options.logLevel } : {}),
      },
    });
    closeSync(log);
    const url = `http://127.0.0.1:${port}`;
    try {
      await until200(`${url}/readyz`, child, 60_000);
      return new EarshotTarget(child, url, options.keys, logPath);
    } catch (error) {
      await child.stop();
      const output = readFileSync(logPath, 'utf8').slice(-2000);
      // Someone took the port between our check and the server's bind: try another.
      if (attempt < 3 && output.includes('EADDRINUSE')) continue;
      throw new Error(`${(error as Error).message}\n${output}`, { cause: error });
    }
  }
}

export class EarshotTarget implements Target {
  readonly name = 'earshot';
  private readonly agent = new Agent({ keepAlive: true });

  constructor(
    readonly child: Child,
    readonly url: string,
    private readonly keys: UserKeys,
    readonly logPath: string,
  ) {}

  openPlayer(user: number): Promise<Player> {
    const bearer = `bearer.${Buffer.from(this.keys.key(user)).toString('base64url')}`;
    return Player.open(`${this.url.replace(/^http/, 'ws')}/ws`, {
      protocols: ['earshot.v1', bearer],
      origin: this.url,
    });
  }

  /** The official SDK's MCP client over Streamable HTTP, initialised, as an agent holds one. */
  async mcpClient(user: number): Promise<Client> {
    const client = new Client({ name: 'earshot-bench', version: '1.0.0' });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(`${this.url}/mcp`), {
        requestInit: { headers: { Authorization: `Bearer ${this.keys.key(user)}` } },
      }),
    );
    return client;
  }

  key(user: number): string {
    return this.keys.key(user);
  }

  /** MCP over plain keep-alive HTTP (see mcp-http.ts for why not the SDK client here). */
  mcp(user: number, revision: 'legacy' | 'modern' = 'legacy'): McpHttpClient {
    return new McpHttpClient(this.url, this.keys.key(user), this.agent, revision);
  }

  speaker(user: number): Promise<Speaker> {
    const mcp = this.mcp(user);
    return Promise.resolve({
      async speak(text) {
        // fresh: identical text would otherwise be replayed from Earshot's store, not asked of the upstream.
        await mcp.callTool('speak', { text, voice: VOICE_ID, fresh: true }, CALL_TIMEOUT_MS);
      },
      close: () => Promise.resolve(),
    });
  }

  async stop(): Promise<void> {
    this.agent.destroy();
    await this.child.stop();
  }
}

/**
 * The format Earshot asks ElevenLabs for by default (server/src/engines/elevenlabs.ts): the floor relays the
 * same, so both send players the same bytes (PCM would be 12× more to write per player).
 */
export const EARSHOT_UPSTREAM_FORMAT = 'opus_48000_32';

/** The floor relay (floor-relay.ts) as its own process. */
export async function startFloor(options: {
  readonly cpu: number | undefined;
  readonly upstreamUrl: string;
  readonly upstreamKey: string;
  /** As EarshotStart's. */
  readonly probeFiles: ServerProbeFiles;
}): Promise<FloorTarget> {
  const probe = serverProbes(options.probeFiles);
  const child = Child.spawn(
    'floor relay',
    [
      ...probe.nodeArgs,
      ENTRY.floor,
      '--upstream',
      options.upstreamUrl,
      '--key',
      options.upstreamKey,
      '--format',
      EARSHOT_UPSTREAM_FORMAT,
    ],
    { cpu: options.cpu, env: probe.env },
  );
  try {
    return new FloorTarget(child, await child.firstLine(30_000));
  } catch (error) {
    await child.stop();
    throw error;
  }
}

export class FloorTarget implements Target {
  readonly name = 'floor';
  private readonly agent = new Agent({ keepAlive: true });

  constructor(
    readonly child: Child,
    readonly url: string,
  ) {}

  openPlayer(user: number): Promise<Player> {
    return Player.open(`${this.url.replace(/^http/, 'ws')}/ws?user=${userName(user)}`);
  }

  speaker(user: number): Promise<Speaker> {
    const post = (text: string) =>
      new Promise<void>((resolve, reject) => {
        const call = request(
          `${this.url}/speak`,
          { method: 'POST', agent: this.agent, timeout: CALL_TIMEOUT_MS },
          (res) => {
            res.resume();
            res.on('end', () =>
              res.statusCode === 200 ? resolve() : reject(new Error(`floor answered ${res.statusCode}`)),
            );
          },
        );
        call.on('timeout', () => call.destroy(new Error('floor: no answer in time')));
        call.on('error', reject);
        call.end(JSON.stringify({ user: userName(user), text, voice: VOICE_ID }));
      });
    return Promise.resolve({ speak: post, close: () => Promise.resolve() });
  }

  async stop(): Promise<void> {
    this.agent.destroy();
    await this.child.stop();
  }
}

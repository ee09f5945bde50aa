import { isIP, isIPv4 } from 'node:net';
import { delimiter, isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import { parseStoreLocation, type StoreLocation } from '../storage/config.js';
import { StoreInputError } from '../storage/errors.js';

/** Comma-separated list → trimmed, non-empty entries. */
const csv = z
  .string()
  .optional()
  .transform((value) =>
    (value ?? '')
      .split(',')
      .map((entry) => entry.trim())
      .filter((entry) => entry !== ''),
  );

const USER_NAME = /^[a-z0-9][a-z0-9_-]{0,63}$/i;

/**
 * Why an EARSHOT_API_KEYS entry is malformed, without quoting it: an entry may be a raw key pasted by mistake,
 * and configuration errors end up in logs.
 */
function keyEntryProblem(entry: string): string | undefined {
  const parts = entry.split(':');
  if (parts.length === 1)
    return (
      'has no ":" (is it a raw key? Raw keys go in EARSHOT_API_KEY; EARSHOT_API_KEYS takes NAME:SHA256HEX ' +
      'entries, made by: earshot keys create NAME)'
    );
  if (parts.length > 2) return 'has more than one ":" (expected NAME:SHA256HEX)';
  const [user = '', hash = ''] = parts;
  if (!USER_NAME.test(user)) return 'has a bad NAME before ":" (1-64 letters, digits, "-" or "_")';
  if (!/^[0-9a-f]{64}$/i.test(hash))
    return 'needs 64 hex digits after ":", the SHA-256 of the key (make an entry with: earshot keys create NAME)';
  return undefined;
}

const keyEntry = z.string().transform((entry, ctx) => {
  const problem = keyEntryProblem(entry);
  if (problem) {
    ctx.addIssue({ code: 'custom', message: problem });
    return z.NEVER;
  }
  const [user = '', hash = ''] = entry.split(':');
  return { user, sha256: hash.toLowerCase() };
});

const HOST_NAME =
  /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*\.?$/i;

/** An address or name to listen on; IPv6 may come in brackets. Dotted numbers must be a real IPv4 address. */
const listenHost = z
  .string()
  .trim()
  .default('127.0.0.1')
  .transform((host) => host.replace(/^\[(.*)\]$/, '$1'))
  .refine(
    (host) => isIP(host) !== 0 || (HOST_NAME.test(host) && !/^[\d.]+$/.test(host)),
    'must be an IP address of this machine (127.0.0.1, 0.0.0.0, ::1) or a host name such as localhost',
  );

/** The environment Earshot reads, validated once at start. */
export const EnvSchema = z.object({
  HOST: listenHost,
  PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  ELEVENLABS_API_KEY: z.string().trim().optional(),
  ELEVENLABS_BASE_URL: z.url().optional(),
  EARSHOT_API_KEY: z.string().trim().min(16, 'EARSHOT_API_KEY must be at least 16 characters').optional(),
  EARSHOT_API_KEYS: csv.pipe(z.array(keyEntry)),
  EARSHOT_DATA_DIR: z.string().default('.earshot'),
  /** `local` (SQLite in EARSHOT_DATA_DIR) or `dynamodb://TABLE`; checked in full by parseStoreLocation. */
  EARSHOT_STORE: z
    .string()
    .trim()
    .refine(
      (value) => /^(local|)$/.test(value) || /^(dynamodb|s3):\/\//.test(value),
      'must be "local" (the default) or dynamodb://TABLE',
    )
    .optional(),
  /** `s3://BUCKET/PREFIX`: where the DynamoDB store keeps audio. */
  EARSHOT_AUDIO: z.string().trim().startsWith('s3://', 'must be s3://BUCKET/PREFIX').optional(),
  /** Server-wide maxima users may lower for themselves but not raise. */
  EARSHOT_AUDIO_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).optional(),
  EARSHOT_AUDIO_QUOTA_MB: z.coerce.number().int().min(1).max(10_000_000).optional(),
  EARSHOT_ALLOWED_ORIGINS: csv.pipe(z.array(z.url())),
  EARSHOT_ALLOWED_HOSTS: csv,
  EARSHOT_PUBLIC_URL: z.url().optional(),
  EARSHOT_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  EARSHOT_DAILY_CHAR_LIMIT: z.coerce.number().int().min(1).max(100_000_000).optional(),
  EARSHOT_OUTPUT_DIR: z.string().optional(),
  /** Folders tools may read input audio from: absolute paths, separated by "," or the path delimiter. */
  EARSHOT_INPUT_DIRS: z
    .string()
    .max(8192)
    .optional()
    .transform((value) =>
      (value ?? '')
        .split(new RegExp(`[,${delimiter === ';' ? ';' : ':'}]`))
        .map((entry) => entry.trim())
        .filter((entry) => entry !== ''),
    )
    .pipe(z.array(z.string().refine(isAbsolute, 'must hold absolute folder paths only')).max(32)),
  EARSHOT_MAX_TEXT_LENGTH: z.coerce.number().int().min(1).max(100_000).default(5000),
  EARSHOT_DRAIN_TIMEOUT_MS: z.coerce.number().int().min(0).max(600_000).default(20_000),
  /** Slow clients (see http/connection-guard.ts for why these values): request head, whole request, idle keep-alive. */
  /** Offline engine: the longest audio one request may make (Flite's default: 900 s). */
  EARSHOT_MAX_AUDIO_SECONDS: z.coerce.number().int().min(1).max(86_400).optional(),
  EARSHOT_HEADERS_TIMEOUT_MS: z.coerce.number().int().min(1).max(600_000).default(10_000),
  EARSHOT_REQUEST_TIMEOUT_MS: z.coerce.number().int().min(1).max(3_600_000).default(30_000),
  EARSHOT_KEEP_ALIVE_TIMEOUT_MS: z.coerce.number().int().min(1).max(600_000).default(72_000),
  /** Open sockets in all, and per client address (IPv6: per /64); 0 turns the per-client cap off. */
  EARSHOT_MAX_CONNECTIONS: z.coerce.number().int().min(1).max(1_000_000).default(4096),
  EARSHOT_MAX_CONNECTIONS_PER_CLIENT: z.coerce.number().int().min(0).max(1_000_000).default(128),
  EARSHOT_METRICS_SERVICE: z.string().optional(),
  /** How often a silent MCP event stream gets a keepalive comment; proxies cut streams idle for longer (mcp/keepalive.ts). */
  EARSHOT_SSE_KEEPALIVE_MS: z.coerce.number().int().min(10).max(600_000).default(20_000),
  /**
   * Behind the AWS proxy only: the secret earshot-upstreams sends to /internal/v1/route-ring after nginx reloads
   * (the same value nginx requires from CloudFront). Unset: the route does not exist.
   */
  EARSHOT_PROXY_SECRET: z.string().min(16).max(256).optional(),
  /**
   * Proxies in front of the server that append to X-Forwarded-For (AWS: CloudFront and nginx, 2). The client's
   * address (per-address rate limits) is then the one the outermost trusted proxy saw; 0 (default) ignores the
   * header, which a client could forge.
   */
  EARSHOT_TRUSTED_PROXY_HOPS: z.coerce.number().int().min(0).max(5).default(0),
  /** Only for conformance/loopback tests: serve /mcp without a key. Refused unless bound to loopback. */
  EARSHOT_DANGEROUSLY_OMIT_AUTH: z.enum(['1', 'true']).optional(),
});

export type Env = z.infer<typeof EnvSchema>;

export type EngineConfig =
  { kind: 'elevenlabs'; apiKey: string; baseUrl?: string } | { kind: 'offline'; maxAudioSeconds?: number };
export type KeyConfig =
  | { kind: 'hashes'; entries: { user: string; sha256: string }[] }
  | { kind: 'raw'; key: string }
  | { kind: 'generate'; file: string };

export interface Config {
  readonly host: string;
  readonly port: number;
  /** Where users open the player, without a trailing slash. Derived from HOST:PORT when not set. */
  readonly publicUrl: string | undefined;
  readonly dataDir: string;
  /** SQLite in `dataDir`, or a DynamoDB table with audio in S3. */
  readonly store: StoreLocation;
  readonly engine: EngineConfig;
  readonly keys: KeyConfig;
  readonly allowedOrigins: readonly string[];
  readonly allowedHosts: readonly string[];
  readonly logLevel: Env['EARSHOT_LOG_LEVEL'];
  readonly maxTextLength: number;
  /** Characters per user per UTC day at most (users may set less); undefined = no limit. */
  readonly dailyCharLimit: number | undefined;
  /** Days stored speech is kept at most (users may set less); undefined = until deleted. */
  readonly audioRetentionDays: number | undefined;
  /** Megabytes of stored audio per user at most (users may set less); undefined = no cap. */
  readonly audioQuotaMb: number | undefined;
  /** Where the `file` output mode may write audio; undefined = the mode is off. */
  readonly outputDir: string | undefined;
  /** Folders tools may read input audio from (EARSHOT_INPUT_DIRS); empty = file inputs are off. */
  readonly inputDirs: readonly string[];
  readonly drainTimeoutMs: number;
  readonly metricsService: string | undefined;
  /** Interval of the keepalive comments on silent MCP event streams. */
  readonly sseKeepaliveMs: number;
  readonly omitAuth: boolean;
  /** Set behind the AWS proxy: enables the route-ring route (http/route-ring.ts). */
  readonly proxySecret: string | undefined;
  /** X-Forwarded-For hops to trust (0: none); see EARSHOT_TRUSTED_PROXY_HOPS. */
  readonly trustedProxyHops: number;
  readonly connections: ConnectionLimits;
}

/** How long slow clients may take and how many sockets they may hold; see http/connection-guard.ts. */
export interface ConnectionLimits {
  /** Until a request's head (request line and headers) is complete; also a new socket's first request. */
  readonly headersTimeoutMs: number;
  /** Until a request (head and body) is complete. Responses are never timed: SSE streams and players last. */
  readonly requestTimeoutMs: number;
  /** An idle keep-alive socket is closed after this. */
  readonly keepAliveTimeoutMs: number;
  readonly maxConnections: number;
  /** 0: no per-client cap (behind a proxy every socket comes from the proxy). */
  readonly maxConnectionsPerClient: number;
}

export class ConfigError extends Error {}

/** True for names and addresses that can only mean this machine (a name like 127.0.0.1.evil.example does not). */
export function isLoopbackHost(host: string): boolean {
  const name = host.toLowerCase().replace(/^\[(.*)\]$/, '$1');
  if (name === 'localhost' || name === '::1') return true;
  return isIPv4(name) && name.startsWith('127.');
}

/** "EARSHOT_API_KEYS entry 2" rather than "EARSHOT_API_KEYS.1": entries are counted from 1 for people. */
function describePath(path: readonly PropertyKey[]): string {
  const [name, index] = path;
  return typeof index === 'number' ? `${String(name)} entry ${index + 1}` : path.map(String).join('.');
}

/** Parses the environment into a Config, or throws a ConfigError listing every problem. */
export function loadConfig(env: NodeJS.ProcessEnv): Config {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `  ${describePath(issue.path)}: ${issue.message}`);
    throw new ConfigError(`Invalid environment:\n${problems.join('\n')}`);
  }
  const e = parsed.data;
  const dataDir = resolve(e.EARSHOT_DATA_DIR);
  const omitAuth = e.EARSHOT_DANGEROUSLY_OMIT_AUTH !== undefined;
  if (omitAuth && !isLoopbackHost(e.HOST)) {
    throw new ConfigError('EARSHOT_DANGEROUSLY_OMIT_AUTH is only allowed when HOST is a loopback address.');
  }
  let store: StoreLocation;
  try {
    store = parseStoreLocation(e, dataDir);
  } catch (error) {
    if (!(error instanceof StoreInputError)) throw error;
    throw new ConfigError(`Invalid environment:\n  ${error.message}`);
  }
  let keys: KeyConfig = { kind: 'generate', file: resolve(dataDir, 'api-key') };
  if (e.EARSHOT_API_KEYS.length > 0) keys = { kind: 'hashes', entries: e.EARSHOT_API_KEYS };
  else if (e.EARSHOT_API_KEY) keys = { kind: 'raw', key: e.EARSHOT_API_KEY };
  if (e.EARSHOT_REQUEST_TIMEOUT_MS < e.EARSHOT_HEADERS_TIMEOUT_MS) {
    throw new ConfigError('EARSHOT_REQUEST_TIMEOUT_MS must be at least EARSHOT_HEADERS_TIMEOUT_MS.');
  }
  const users = keys.kind === 'hashes' ? keys.entries.map((entry) => entry.user) : [];
  if (new Set(users).size !== users.length) throw new ConfigError('EARSHOT_API_KEYS names a user twice.');

  return {
    host: e.HOST,
    port: e.PORT,
    publicUrl: e.EARSHOT_PUBLIC_URL?.replace(/\/+$/, ''),
    dataDir,
    store,
    engine: e.ELEVENLABS_API_KEY
      ? { kind: 'elevenlabs', apiKey: e.ELEVENLABS_API_KEY, baseUrl: e.ELEVENLABS_BASE_URL }
      : { kind: 'offline', maxAudioSeconds: e.EARSHOT_MAX_AUDIO_SECONDS },
    keys,
    allowedOrigins: e.EARSHOT_ALLOWED_ORIGINS.map((origin) => new URL(origin).origin),
    allowedHosts: e.EARSHOT_ALLOWED_HOSTS.map((host) => host.toLowerCase()),
    logLevel: e.EARSHOT_LOG_LEVEL,
    maxTextLength: e.EARSHOT_MAX_TEXT_LENGTH,
    dailyCharLimit: e.EARSHOT_DAILY_CHAR_LIMIT,
    audioRetentionDays: e.EARSHOT_AUDIO_RETENTION_DAYS,
    audioQuotaMb: e.EARSHOT_AUDIO_QUOTA_MB,
    outputDir: e.EARSHOT_OUTPUT_DIR ? resolve(e.EARSHOT_OUTPUT_DIR) : undefined,
    inputDirs: e.EARSHOT_INPUT_DIRS.map((dir) => resolve(dir)),
    drainTimeoutMs: e.EARSHOT_DRAIN_TIMEOUT_MS,
    metricsService: e.EARSHOT_METRICS_SERVICE,
    sseKeepaliveMs: e.EARSHOT_SSE_KEEPALIVE_MS,
    omitAuth,
    proxySecret: e.EARSHOT_PROXY_SECRET,
    trustedProxyHops: e.EARSHOT_TRUSTED_PROXY_HOPS,
    connections: {
      headersTimeoutMs: e.EARSHOT_HEADERS_TIMEOUT_MS,
      requestTimeoutMs: e.EARSHOT_REQUEST_TIMEOUT_MS,
      keepAliveTimeoutMs: e.EARSHOT_KEEP_ALIVE_TIMEOUT_MS,
      maxConnections: e.EARSHOT_MAX_CONNECTIONS,
      maxConnectionsPerClient: e.EARSHOT_MAX_CONNECTIONS_PER_CLIENT,
    },
  };
}

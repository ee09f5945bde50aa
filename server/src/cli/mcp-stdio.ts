import { readFile } from 'node:fs/promises';
import type { Logger } from 'pino';
import { loadConfig, type Config } from '../config/env.js';
import { createLogger } from '../logger.js';
import type { RunningEarshot } from '../runtime.js';
import { CliError } from './errors.js';
import { isEarshot } from './probe.js';

/** A failure the user can act on: printed as is on stderr, exit 1. */
export class BridgeError extends CliError {
  constructor(message: string) {
    super(message, 1);
  }
}

interface Target {
  /** Base URL of the Earshot server, without a trailing slash. */
  readonly baseUrl: string;
  readonly key: string | undefined;
  /** The server this process started, if it did. */
  readonly running?: RunningEarshot;
  /** Where the key came from, for error messages. */
  readonly keySource: string;
}

/**
 * `earshot mcp`: MCP over stdio. With no server answering on this machine's port, it starts one in this process
 * and serves stdio from it directly; otherwise (or with EARSHOT_URL) it bridges stdio to that server's Streamable
 * HTTP endpoint. stdout carries JSON-RPC and nothing else; every log line goes to stderr.
 */
export async function runMcpStdio(env: NodeJS.ProcessEnv): Promise<void> {
  const logger = createLogger(env.EARSHOT_LOG_LEVEL ?? 'warn', {
    pretty: process.stderr.isTTY === true,
    destination: 2,
  });
  const target = env.EARSHOT_URL ? remoteTarget(env) : await localTarget(env, logger);
  if (target.running) return serveOwnServer(target, target.running, logger);
  await checkAccess(target);
  await bridge(target, logger);
}

function remoteTarget(env: NodeJS.ProcessEnv): Target {
  let url: URL;
  try {
    url = new URL(env.EARSHOT_URL!);
  } catch {
    // Not echoed: a key pasted into the wrong variable would land in the agent's logs.
    throw new BridgeError('EARSHOT_URL is not a URL (example: https://earshot.example.com).');
  }
  // Accept both the server's URL and its /mcp endpoint.
  const baseUrl = url.href.replace(/\/+$/, '').replace(/\/mcp$/, '');
  return { baseUrl, key: env.EARSHOT_API_KEY?.trim() || undefined, keySource: 'EARSHOT_API_KEY' };
}

/** No EARSHOT_URL: reuse the server answering on this machine's port, or start one in this process. */
async function localTarget(env: NodeJS.ProcessEnv, logger: Logger): Promise<Target> {
  const config = loadConfig(env);
  const probeHost = ['0.0.0.0', '::', '[::]'].includes(config.host) ? '127.0.0.1' : config.host;
  const baseUrl = `http://${probeHost.includes(':') ? `[${probeHost}]` : probeHost}:${config.port}`;
  if (await isEarshot(baseUrl)) return reuse(baseUrl, config, env);

  if (config.keys.kind === 'hashes' && !env.EARSHOT_API_KEY)
    throw new BridgeError(
      'EARSHOT_API_KEYS is set, so earshot mcp needs your own key too: set EARSHOT_API_KEY.',
    );
  let running: RunningEarshot;
  try {
    // Loaded only here: a bridge to a server elsewhere (EARSHOT_URL) never loads the server's own modules.
    const { startEarshot } = await import('../runtime.js');
    running = await startEarshot(config, { logger });
  } catch (error) {
    // Another `earshot mcp` started at the same moment and won the port: use its server.
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE' && (await isEarshot(baseUrl)))
      return reuse(baseUrl, config, env);
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE')
      throw new BridgeError(
        `Port ${config.port} is taken by something that is not Earshot. Set PORT to a free port, or EARSHOT_URL.`,
      );
    throw error;
  }
  const fromEnv = env.EARSHOT_API_KEY?.trim();
  const key = fromEnv || running.localKey;
  // stderr of a stdio server ends up in the agent's logs: the URL goes there, the key never does.
  process.stderr.write(
    `Earshot is running at ${running.url} (voice: ${running.engine.name}).\n` +
      `Open the player and click "Enable audio": ${running.publicUrl}/ (${whereIsTheKey(fromEnv ? undefined : config)}).\n`,
  );
  return { baseUrl: running.url, key, running, keySource: fromEnv ? 'EARSHOT_API_KEY' : 'this server' };
}

async function reuse(baseUrl: string, config: Config, env: NodeJS.ProcessEnv): Promise<Target> {
  const fromEnv = env.EARSHOT_API_KEY?.trim();
  if (fromEnv) return { baseUrl, key: fromEnv, keySource: 'EARSHOT_API_KEY' };
  if (config.keys.kind !== 'generate')
    throw new BridgeError(
      `An Earshot server is running at ${baseUrl}; set EARSHOT_API_KEY to your key to use it.`,
    );
  let key: string;
  try {
    key = (await readFile(config.keys.file, 'utf8')).trim();
  } catch {
    throw new BridgeError(
      `An Earshot server is running at ${baseUrl}, but there is no key file at ${config.keys.file}: ` +
        'it was started from another directory. Set EARSHOT_API_KEY to its key (from its .earshot/api-key) ' +
        'or EARSHOT_DATA_DIR to its data directory.',
    );
  }
  process.stderr.write(
    `Using the Earshot server already running at ${baseUrl}.\nPlayer: ${baseUrl}/ (${whereIsTheKey(config)}).\n`,
  );
  return { baseUrl, key, keySource: `the key file ${config.keys.file}` };
}

/** Where the player's key is, for the line on stderr (which must not hold the key itself). */
function whereIsTheKey(config: Config | undefined): string {
  if (config?.keys.kind !== 'generate') return 'sign in with your EARSHOT_API_KEY';
  return `sign in with the key in ${config.keys.file}; show it with: cat ${config.keys.file}`;
}

/** One ping before the client's first message, so a bad key or URL fails now, with a clear message. */
async function checkAccess(target: Target): Promise<void> {
  let response: Response;
  try {
    response = await fetch(`${target.baseUrl}/mcp`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        ...(target.key ? { authorization: `Bearer ${target.key}` } : {}),
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: 0, method: 'ping' }),
      signal: AbortSignal.timeout(10_000),
    });
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message;
    throw new BridgeError(`Cannot reach Earshot at ${target.baseUrl} (${cause}). Is the server running?`);
  }
  await response.body?.cancel();
  if (response.status === 401) {
    const hint = target.running
      ? ''
      : target.keySource.startsWith('the key file')
        ? ' The server was probably started from another directory, with another key: set EARSHOT_API_KEY ' +
          "to the key it printed (in that directory's .earshot/api-key), or EARSHOT_DATA_DIR to its data directory."
        : '';
    throw new BridgeError(
      target.key
        ? `Earshot at ${target.baseUrl} rejected the API key from ${target.keySource} (HTTP 401).${hint}`
        : `Earshot at ${target.baseUrl} needs an API key: set EARSHOT_API_KEY.`,
    );
  }
  if (response.status === 403)
    throw new BridgeError(
      `Earshot at ${target.baseUrl} refused the request (HTTP 403): its EARSHOT_ALLOWED_HOSTS must include this host name.`,
    );
  if (response.status === 404)
    throw new BridgeError(
      `${target.baseUrl}/mcp is not an Earshot MCP endpoint (HTTP 404): check EARSHOT_URL.`,
    );
  if (!response.ok)
    throw new BridgeError(`Earshot at ${target.baseUrl} answered HTTP ${response.status}; try again later.`);
}

/**
 * Serves stdio from the server this process started: the key is checked against it here (there is no HTTP
 * request to refuse), then every message goes to that server's MCP surface in process, until stdin closes or a
 * signal arrives.
 */
async function serveOwnServer(target: Target, running: RunningEarshot, logger: Logger): Promise<void> {
  const user = running.userOf(target.key);
  if (user === null) {
    await running.shutdown();
    throw new BridgeError(
      `The Earshot server this process started rejected the API key from ${target.keySource}: it is not one of ` +
        'its keys (EARSHOT_API_KEYS, or the key file in its data directory). Set EARSHOT_API_KEY to your own key.',
    );
  }
  const { serveStdioSession } = await import('../mcp/stdio-session.js');
  const session = serveStdioSession((era) => running.mcpServer(user, era), logger);
  stopWithStdin(logger, async () => {
    await session.close().catch(() => undefined);
    await running.shutdown();
  });
}

/** Forwards JSON-RPC both ways between stdio and a server elsewhere, until stdin closes or a signal arrives. */
async function bridge(target: Target, logger: Logger): Promise<void> {
  // Loaded only here: the HTTP client transport is not needed when this process serves stdio itself.
  const { startStdioBridge } = await import('../mcp/stdio-bridge.js');
  const bridge = await startStdioBridge({ baseUrl: target.baseUrl, key: target.key, logger });
  stopWithStdin(logger, () => bridge.close());
}

/** Stops (`close`, then exit 0) once stdin closes or on SIGTERM/SIGINT, whichever comes first. */
function stopWithStdin(logger: Logger, close: () => Promise<void>): void {
  let stopping: Promise<void> | undefined;
  const stop = (reason: string) => {
    stopping ??= (async () => {
      logger.info({ reason }, 'earshot mcp: stopping');
      await close();
      process.exit(0);
    })();
    return stopping;
  };
  process.stdin.on('end', () => void stop('stdin closed'));
  process.stdin.on('close', () => void stop('stdin closed'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { LATEST_PROTOCOL_VERSION } from '@modelcontextprotocol/sdk/types.js';
import type { RunContext } from '../context.js';
import { Child, ENTRY, freePort, until200 } from '../processes.js';
import { median } from '../stats.js';

const START_TIMEOUT_MS = 60_000;

/**
 * Scenario e: from spawning the CLI (pinned to the server's CPU, like the server under test) to its first
 * useful answer, a few times each. Each start gets a fresh data directory, as a new container or a first
 * `npx -y earshot` does.
 * - `earshot serve` → the first 200 from /readyz (polled every 2 ms on new connections);
 * - `earshot mcp` → the answer to `initialize` written to its stdin at spawn, when it starts its own
 *   server (no EARSHOT_URL: an agent's first use on a laptop) and when it bridges to a running one.
 *
 * Earshot keeps V8's compiled code between starts (cli/compile-cache.ts). Each kind of start gets a compile cache
 * of its own, empty at first (NODE_COMPILE_CACHE, Node's setting, here pointing into this run's folder): its
 * first start is the first after an install (`e.*Cold`), the median of the others every later start (`e.*`).
 */
export async function startup(ctx: RunContext): Promise<void> {
  const upstream = {
    ELEVENLABS_API_KEY: ctx.standin.key,
    ELEVENLABS_BASE_URL: ctx.standin.url,
  };
  const serve: number[] = [];
  const own: number[] = [];
  const bridge: number[] = [];
  const cache = (kind: string) => ({ NODE_COMPILE_CACHE: freshDir(ctx, `compile-cache-${kind}`) });
  const caches = { serve: cache('serve'), own: cache('mcp'), bridge: cache('bridge') };
  for (let i = 0; i < ctx.options.sizes.startups; i++) {
    serve.push(
      await timeServe(ctx, {
        ...upstream,
        ...caches.serve,
        EARSHOT_API_KEYS: ctx.keys.apiKeysEnv,
        EARSHOT_DATA_DIR: freshDir(ctx, `serve-${i}`),
      }),
    );
    own.push(
      await timeMcp(ctx, {
        ...upstream,
        ...caches.own,
        EARSHOT_API_KEY: ctx.keys.key(0),
        EARSHOT_DATA_DIR: freshDir(ctx, `mcp-${i}`),
        PORT: String(await freePort()),
      }),
    );
    bridge.push(
      await timeMcp(ctx, {
        ...caches.bridge,
        EARSHOT_URL: ctx.earshot.url,
        EARSHOT_API_KEY: ctx.keys.key(0),
        EARSHOT_DATA_DIR: freshDir(ctx, `bridge-${i}`),
      }),
    );
  }
  // The first of each kind compiled everything (cold); the rest read the cache it left.
  const warm = (times: number[]) => median(times.slice(1));
  ctx.record('e.serve', 'earshot', warm(serve));
  ctx.record('e.mcp', 'earshot', warm(own));
  ctx.record('e.mcpBridge', 'earshot', warm(bridge));
  ctx.record('e.serveCold', 'earshot', serve[0]!);
  ctx.record('e.mcpCold', 'earshot', own[0]!);
  ctx.record('e.mcpBridgeCold', 'earshot', bridge[0]!);
}

function freshDir(ctx: RunContext, name: string): string {
  const dir = join(ctx.workDir, 'startup', name);
  mkdirSync(dir, { recursive: true });
  return dir;
}

async function timeServe(ctx: RunContext, env: Record<string, string>): Promise<number> {
  const port = await freePort();
  const spawnedAt = performance.now();
  const child = Child.spawn('earshot serve', [ENTRY.earshot, 'serve'], {
    cpu: ctx.cpus.serverCpu,
    env: { ...env, HOST: '127.0.0.1', PORT: String(port) },
  });
  try {
    const readyAt = await until200(`http://127.0.0.1:${port}/readyz`, child, START_TIMEOUT_MS, 2);
    return readyAt - spawnedAt;
  } catch (error) {
    throw new Error(`${(error as Error).message}\n${child.recentOutput}`, { cause: error });
  } finally {
    await child.stop();
  }
}

async function timeMcp(ctx: RunContext, env: Record<string, string>): Promise<number> {
  const initialize = {
    jsonrpc: '2.0',
    id: 1,
    method: 'initialize',
    params: {
      protocolVersion: LATEST_PROTOCOL_VERSION,
      capabilities: {},
      clientInfo: { name: 'earshot-bench', version: '1.0.0' },
    },
  };
  const spawnedAt = performance.now();
  const child = Child.spawn('earshot mcp', [ENTRY.earshot, 'mcp'], {
    cpu: ctx.cpus.serverCpu,
    env: { ...env, HOST: '127.0.0.1' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  try {
    // Written at once, as an agent does: it waits in the pipe until the process reads it.
    child.process.stdin!.write(`${JSON.stringify(initialize)}\n`);
    const answeredAt = await new Promise<number>((resolve, reject) => {
      let text = '';
      const timer = setTimeout(
        () => reject(new Error(`earshot mcp: no answer to initialize in ${START_TIMEOUT_MS} ms`)),
        START_TIMEOUT_MS,
      );
      child.process.stdout!.on('data', (data: Buffer) => {
        text += data.toString('utf8');
        for (const line of text.split('\n').slice(0, -1)) {
          if (!/"id"\s*:\s*1\b/.test(line)) continue;
          clearTimeout(timer);
          if (!line.includes('"result"')) reject(new Error(`earshot mcp: initialize failed: ${line}`));
          resolve(performance.now());
        }
      });
      void child.exited.then(() => {
        clearTimeout(timer);
        reject(new Error(`earshot mcp exited (${child.exitStatus}) before answering`));
      });
    });
    return answeredAt - spawnedAt;
  } catch (error) {
    throw new Error(`${(error as Error).message}\n${child.recentOutput}`, { cause: error });
  } finally {
    child.process.stdin!.end();
    await child.stop();
  }
}

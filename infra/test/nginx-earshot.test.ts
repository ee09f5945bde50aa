// The rendered nginx in front of TWO real Earshot servers (the built `earshot serve`): users spread over both,
// and every MCP speak reaches that user's player, which is connected through nginx too.
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPlayer } from '../src/proxy/testing/clients.js';
import { freePort, startLocalNginx, waitFor, type LocalNginx } from '../src/proxy/testing/local-nginx.js';

const mainJs = fileURLToPath(new URL('../../server/dist/cli/main.js', import.meta.url));
const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

interface EarshotProcess {
  readonly name: string;
  readonly address: string;
  readonly output: () => string;
  stop(): Promise<void>;
}

// Where a key lands depends on the servers' (random) ports: with 8 users, all of them once landed on one server
// (a run with both servers expected to have players failed); with 24 that is about a one-in-a-million draw.
const users = Array.from({ length: 24 }, (_, index) => ({
  name: `user${index}`,
  key: `esk_e2e_${index}_${randomBytes(12).toString('base64url')}`,
}));
const apiKeys = users
  .map((user) => `${user.name}:${createHash('sha256').update(user.key).digest('hex')}`)
  .join(',');

async function startEarshot(name: string, dataDir: string): Promise<EarshotProcess> {
  const port = await freePort();
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    HOST: '127.0.0.1',
    PORT: String(port),
    EARSHOT_API_KEYS: apiKeys,
    EARSHOT_DATA_DIR: dataDir,
  };
  const child: ChildProcess = spawn(process.execPath, [mainJs, 'serve'], {
    cwd: repoRoot,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  };
  try {
    // waitFor takes a failed check for "not yet"; an exit is final, so it ends the wait with the output.
    await Promise.race([
      waitFor(
        `Earshot ${name} to answer /healthz`,
        async () => (await fetch(`http://127.0.0.1:${port}/healthz`)).ok,
        60_000,
      ),
      exited.then(() => {
        throw new Error(`Earshot ${name} exited: ${output}`);
      }),
    ]);
  } catch (error) {
    await stop();
    throw error;
  }
  return { name, address: `127.0.0.1:${port}`, output: () => output, stop };
}

/** Users whose "player connected" log line came from this server. */
function usersWithPlayersOn(server: EarshotProcess): Set<string> {
  const names = new Set<string>();
  for (const line of server.output().split('\n')) {
    if (!line.startsWith('{')) continue;
    const entry = JSON.parse(line) as { msg?: string; user?: string };
    if (entry.msg === 'player connected' && entry.user) names.add(entry.user);
  }
  return names;
}

interface PlayerLog {
  readonly text: string[];
  audioBytes: number;
}

describe('nginx in front of two Earshot servers', () => {
  let dir: string;
  let servers: EarshotProcess[] = [];
  let nginx: LocalNginx | undefined;
  const sockets: WebSocket[] = [];

  beforeAll(async () => {
    if (!existsSync(mainJs))
      throw new Error(`${mainJs} is missing: run "npm run build" first (npm test does).`);
    dir = await mkdtemp(join(tmpdir(), 'earshot-e2e-'));
    servers = [await startEarshot('one', join(dir, 'one')), await startEarshot('two', join(dir, 'two'))];
    nginx = await startLocalNginx({ tasks: servers.map((server) => server.address) });
  }, 150_000);

  afterAll(async () => {
    for (const socket of sockets) socket.terminate();
    await nginx?.stop();
    for (const server of servers) await server.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("spreads users over both servers, and every speak reaches its user's player", async () => {
    const proxy = `http://127.0.0.1:${nginx!.httpPort}`;
    const logs = new Map<string, PlayerLog>();
    for (const user of users) {
      const { socket, hello } = await openPlayer(`ws://127.0.0.1:${nginx!.httpPort}/ws`, user.key);
      sockets.push(socket);
      expect(hello).toMatchObject({ type: 'hello', user: user.name });
      const log: PlayerLog = { text: [], audioBytes: 0 };
      socket.on('message', (data, isBinary) => {
        if (isBinary) log.audioBytes += (data as Buffer).length;
        else log.text.push((data as Buffer).toString());
      });
      logs.set(user.name, log);
    }

    // Every player landed on exactly one server, and both servers have players.
    await waitFor('every server to log its players', async () => {
      const logged = servers.map(usersWithPlayersOn);
      return logged.reduce((sum, names) => sum + names.size, 0) >= users.length;
    });
    const [one, two] = servers.map(usersWithPlayersOn) as [Set<string>, Set<string>];
    expect(one.size + two.size).toBe(users.length);
    expect([...one].filter((name) => two.has(name))).toEqual([]);
    expect(one.size).toBeGreaterThan(0);
    expect(two.size).toBeGreaterThan(0);

    // Four speakers on each server (or all it has) keep the run short.
    const speakers = users.filter((user) =>
      [...[...one].slice(0, 4), ...[...two].slice(0, 4)].includes(user.name),
    );
    for (const user of speakers) {
      const client = new Client({ name: 'earshot-nginx-test', version: '1.0.0' });
      const transport = new StreamableHTTPClientTransport(new URL(`${proxy}/mcp`), {
        requestInit: { headers: { Authorization: `Bearer ${user.key}` } },
      });
      await client.connect(transport);
      try {
        const text = `Hello ${user.name}, this reached you.`;
        const result = await client.callTool({ name: 'speak', arguments: { text } });
        expect(result.isError ?? false, JSON.stringify(result.content)).toBe(false);
        expect(result.structuredContent).toMatchObject({ status: 'completed', playersReached: 1 });
        const log = logs.get(user.name)!;
        await waitFor(`${user.name}'s player to get the whole speech`, async () =>
          log.text.some((message) => message.includes('"speech.end"')),
        );
        const start = log.text
          .map((message) => JSON.parse(message) as { type: string; text?: string })
          .find((message) => message.type === 'speech.start');
        expect(start?.text).toBe(text);
        expect(log.audioBytes).toBeGreaterThan(1_000);
      } finally {
        await client.close();
      }
    }
    // No player heard anyone else's speech.
    for (const user of users) {
      const starts = logs.get(user.name)!.text.filter((message) => message.includes('"speech.start"'));
      expect(starts).toHaveLength(speakers.includes(user) ? 1 : 0);
    }
  }, 60_000);
});

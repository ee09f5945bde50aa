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

const mainJs = fileURLToPath(new URL('../../server/dist/bundle/main.js', import.meta.url));
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

async function startEarshot(
  name: string,
  dataDir: string,
  extraEnv: NodeJS.ProcessEnv = {},
): Promise<EarshotProcess> {
  const port = await freePort();
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    HOST: '127.0.0.1',
    PORT: String(port),
    EARSHOT_API_KEYS: apiKeys,
    EARSHOT_DATA_DIR: dataDir,
    ...extraEnv,
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
      const { socket, hello } = await openPlayer(`ws://127.0.0.1:${nginx!.httpPort}/ws`, user.key, {
        headers: nginx!.cloudFront,
      });
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
        requestInit: { headers: { Authorization: `Bearer ${user.key}`, ...nginx!.cloudFront } },
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

// Defect 4: a `speak` with wait "played" whose player never reports it played is silent for its duration plus the
// server's 15 s grace. nginx's /mcp read timeout, shortened to 3 s, stands in for CloudFront's 60 s origin read
// timeout (the proxy that binds in production); the server's keepalive, shortened in the same ratio, must carry the
// call through. The control without keepalive shows the cut the keepalive prevents.
describe('a silent MCP call through nginx', () => {
  let dir: string;
  const started: { server: EarshotProcess; nginx: LocalNginx }[] = [];

  beforeAll(async () => {
    if (!existsSync(mainJs))
      throw new Error(`${mainJs} is missing: run "npm run build" first (npm test does).`);
    dir = await mkdtemp(join(tmpdir(), 'earshot-silent-'));
  });

  afterAll(async () => {
    for (const { server, nginx } of started) {
      await nginx.stop();
      await server.stop();
    }
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function startPair(keepaliveMs: number) {
    const server = await startEarshot(`keepalive-${keepaliveMs}`, join(dir, String(keepaliveMs)), {
      EARSHOT_SSE_KEEPALIVE_MS: String(keepaliveMs),
    });
    const nginx = await startLocalNginx({ tasks: [server.address], runtime: { mcpReadTimeout: '3s' } });
    started.push({ server, nginx });
    return nginx;
  }

  /**
   * A player for the user, connected through nginx, that says its audio is on (so `wait: "played"` waits for it)
   * and never reports a speech played.
   */
  async function silentPlayer(nginx: LocalNginx) {
    const user = users[0]!;
    const { socket, hello } = await openPlayer(`ws://127.0.0.1:${nginx.httpPort}/ws`, user.key, {
      headers: nginx.cloudFront,
    });
    expect(hello).toMatchObject({ type: 'hello', user: user.name });
    // The server handles a player's messages in order: once the pong is back, it knows the audio is on.
    const pong = new Promise<void>((resolve) =>
      socket.on('message', (data, binary) => {
        if (!binary && (JSON.parse((data as Buffer).toString()) as { type?: string }).type === 'pong')
          resolve();
      }),
    );
    socket.send(JSON.stringify({ type: 'state', audio: 'on' }));
    socket.send(JSON.stringify({ type: 'ping' }));
    await pong;
    return { user, socket };
  }

  it('completes with the keepalive (every 500 ms) although the call is silent far longer than the 3 s timeout', async () => {
    const nginx = await startPair(500);
    const { user, socket } = await silentPlayer(nginx);
    try {
      const client = new Client({ name: 'earshot-silent-call', version: '1.0.0' });
      const transport = new StreamableHTTPClientTransport(new URL(`http://127.0.0.1:${nginx.httpPort}/mcp`), {
        requestInit: { headers: { Authorization: `Bearer ${user.key}`, ...nginx.cloudFront } },
      });
      await client.connect(transport);
      try {
        const result = await client.callTool(
          { name: 'speak', arguments: { text: 'Wait for me.', wait: 'played' } },
          undefined,
          { timeout: 60_000 },
        );
        expect(result.isError ?? false, JSON.stringify(result.content)).toBe(false);
        expect(result.structuredContent).toMatchObject({
          status: 'completed',
          playersReached: 1,
          playersListening: 1,
          played: false,
        });
      } finally {
        await client.close();
      }
    } finally {
      socket.close();
    }
    expect(await nginx.errorLog()).not.toContain('upstream timed out');
  }, 90_000);

  it('is cut by the proxy without it (keepalive every 10 min): what the keepalive prevents', async () => {
    const nginx = await startPair(600_000);
    const { user, socket } = await silentPlayer(nginx);
    try {
      // The raw exchange, so the cut is seen as it happens (the SDK client would wait for its own timeout).
      const response = await fetch(`http://127.0.0.1:${nginx.httpPort}/mcp`, {
        method: 'POST',
        headers: {
          Authorization: `Bearer ${user.key}`,
          'Content-Type': 'application/json',
          Accept: 'application/json, text/event-stream',
          ...nginx.cloudFront,
        },
        body: JSON.stringify({
          jsonrpc: '2.0',
          id: 1,
          method: 'tools/call',
          params: { name: 'speak', arguments: { text: 'Wait for me.', wait: 'played' } },
        }),
      });
      const body = await response.text().catch((error: unknown) => `cut: ${String(error)}`);
      expect(body).not.toContain('"result"');
    } finally {
      socket.close();
    }
    await waitFor('nginx to log the timeout', async () =>
      (await nginx.errorLog()).includes('upstream timed out'),
    );
  }, 90_000);
});

// A task joins: nginx reloads with the new set, its old workers keep every open player socket, and earshot-upstreams
// tells the previous tasks the new set; each closes (4001) only the players whose user now hashes to the new task.
// Everyone else keeps their socket. Then every user's MCP speak still reaches their player: the tasks' ring agrees
// with nginx's for all 24 keys (a disagreement would leave a player on another task than its user's calls).
describe('a task joining behind nginx', () => {
  let dir: string;
  let servers: EarshotProcess[] = [];
  let nginx: LocalNginx | undefined;
  const sockets: WebSocket[] = [];

  beforeAll(async () => {
    if (!existsSync(mainJs))
      throw new Error(`${mainJs} is missing: run "npm run build" first (npm test does).`);
    dir = await mkdtemp(join(tmpdir(), 'earshot-join-'));
    const secret = randomBytes(24).toString('hex');
    for (const name of ['one', 'two', 'three']) {
      servers.push(await startEarshot(name, join(dir, name), { EARSHOT_PROXY_SECRET: secret }));
    }
    nginx = await startLocalNginx({
      tasks: servers.slice(0, 2).map((server) => server.address),
      originSecret: secret,
    });
  }, 150_000);

  afterAll(async () => {
    for (const socket of sockets) socket.terminate();
    await nginx?.stop();
    for (const server of servers) await server.stop();
    servers = [];
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function connect(key: string) {
    const { socket, hello } = await openPlayer(`ws://127.0.0.1:${nginx!.httpPort}/ws`, key, {
      headers: nginx!.cloudFront,
    });
    sockets.push(socket);
    const closed = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));
    return { socket, hello, closed };
  }

  it('closes only the moved users’ players, and every user’s speech still reaches their player', async () => {
    const players = new Map<string, Awaited<ReturnType<typeof connect>>>();
    for (const user of users) players.set(user.name, await connect(user.key));
    const codes = new Map<string, number>();
    for (const [name, player] of players) void player.closed.then((code) => codes.set(name, code));

    const discovery = await nginx!.discover(servers.map((server) => server.address));
    // The notice waited until only the new worker accepts: a moved player cannot reconnect through the old one.
    expect(discovery.stderr).toContain('workers accepting: 1 before the reload, 1 now');
    // Both previous tasks answered the notice (their answer is logged with the counts).
    for (const server of servers.slice(0, 2)) {
      expect(discovery.stderr).toMatch(
        new RegExp(`told ${server.address} the new set: \\{"moved":\\d+,"kept":\\d+\\}`),
      );
    }
    const moved = [...discovery.stderr.matchAll(/"moved":(\d+)/g)].reduce((sum, [, n]) => sum + Number(n), 0);
    // 24 users over 3 tasks: nobody moving to the new one has a chance of (2/3)^24 ≈ 6·10⁻⁵.
    expect(moved).toBeGreaterThan(0);
    expect(moved).toBeLessThan(users.length);
    await waitFor('the moved players to close', async () => codes.size === moved);
    expect(new Set(codes.values())).toEqual(new Set([4001]));

    // The moved reconnect (as the console does at once); nginx's new workers send them to the new task.
    for (const name of codes.keys()) {
      const user = users.find((candidate) => candidate.name === name)!;
      players.set(name, await connect(user.key));
    }
    await waitFor('the new task to log the moved players', async () =>
      [...codes.keys()].every((name) => usersWithPlayersOn(servers[2]!).has(name)),
    );
    expect(usersWithPlayersOn(servers[2]!)).toEqual(new Set(codes.keys()));

    // Every user — kept or moved — is heard: their MCP calls and their one open player are on the same task.
    const proxy = `http://127.0.0.1:${nginx!.httpPort}`;
    for (const user of users) {
      const client = new Client({ name: 'earshot-join-test', version: '1.0.0' });
      const transport = new StreamableHTTPClientTransport(new URL(`${proxy}/mcp`), {
        requestInit: { headers: { Authorization: `Bearer ${user.key}`, ...nginx!.cloudFront } },
      });
      await client.connect(transport);
      try {
        const result = await client.callTool({ name: 'speak', arguments: { text: 'Still here?' } });
        expect(result.structuredContent, user.name).toMatchObject({ playersReached: 1 });
      } finally {
        await client.close();
      }
    }
    // The kept players never closed.
    expect(codes.size).toBe(moved);
  }, 120_000);
});

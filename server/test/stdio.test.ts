import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client as ClientV2 } from '@modelcontextprotocol/client';
import { StdioClientTransport as StdioClientTransportV2 } from '@modelcontextprotocol/client/stdio';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256Hex } from '../src/auth/keys.js';
import { CLI_PATH } from './support/cli.js';
import { connectPlayer } from './support/player.js';
import { startTestServer, type TestServer } from './support/server.js';

const LONG_TEXT = Array.from(
  { length: 8 },
  (_, i) => `This is sentence number ${i + 1} of the report read over standard input.`,
).join(' ');

interface StdioSession {
  readonly client: Client;
  readonly transport: StdioClientTransport;
  /** Lines of stdout that were not JSON-RPC (must stay empty). */
  readonly stdoutErrors: Error[];
  readonly stderr: () => string;
  close(): Promise<void>;
}

/** `earshot mcp` spawned by the SDK's stdio client, as Claude Desktop would run it. */
async function connectStdio(env: Record<string, string>, cwd?: string): Promise<StdioSession> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [CLI_PATH, 'mcp'],
    env,
    cwd,
    stderr: 'pipe',
  });
  let stderr = '';
  transport.stderr?.on('data', (data: Buffer) => (stderr += data.toString()));
  const stdoutErrors: Error[] = [];
  // Every stdout line the transport cannot parse as JSON-RPC lands here.
  transport.onerror = (error) => stdoutErrors.push(error);
  const client = new Client({ name: 'earshot-stdio-test', version: '1.0.0' });
  try {
    await client.connect(transport);
  } catch (error) {
    throw new Error(`earshot mcp did not connect: ${String(error)}\nstderr:\n${stderr}`, { cause: error });
  }
  return { client, transport, stdoutErrors, stderr: () => stderr, close: () => client.close() };
}

/** Runs `earshot mcp` to its exit with nothing on stdin, for the failure paths. */
function runToExit(env: Record<string, string>, cwd?: string) {
  const child = spawn(process.execPath, [CLI_PATH, 'mcp'], {
    env: { PATH: process.env.PATH ?? '', ...env },
    cwd,
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (data: Buffer) => (stdout += data.toString()));
  child.stderr.on('data', (data: Buffer) => (stderr += data.toString()));
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    child.on('close', (code) => resolve({ code, stdout, stderr })),
  );
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (typeof address !== 'object' || !address) throw new Error('no port');
  return address.port;
}

async function exited(pid: number | null | undefined, timeoutMs = 15_000): Promise<boolean> {
  if (!pid) return true;
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      process.kill(pid, 0);
    } catch {
      return true;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return false;
}

async function answers(url: string): Promise<boolean> {
  try {
    return (await fetch(url, { signal: AbortSignal.timeout(2000) })).ok;
  } catch {
    return false;
  }
}

async function waitForText(
  read: () => string,
  pattern: RegExp,
  timeoutMs = 30_000,
): Promise<RegExpExecArray> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const match = pattern.exec(read());
    if (match) return match;
    if (Date.now() > deadline) throw new Error(`no ${pattern} in:\n${read()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

beforeAll(() => {
  if (!existsSync(CLI_PATH))
    throw new Error(`${CLI_PATH} is missing: run "npm run build" first (npm test does).`);
});

describe('earshot mcp bridging to EARSHOT_URL', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ users: ['alice'] });
  });
  afterAll(() => server.close());

  it('lists tools, speaks to the player with progress, forwards cancellation, and exits when stdin closes', async () => {
    const player = await connectPlayer(server.url, server.keys.alice!);
    await player.waitFor('hello');
    const session = await connectStdio({
      EARSHOT_URL: server.url,
      EARSHOT_API_KEY: server.keys.alice!,
      // Debug logs must still never reach stdout.
      EARSHOT_LOG_LEVEL: 'debug',
    });
    const { tools } = await session.client.listTools();
    expect(tools.map((tool) => tool.name)).toContain('speak');
    expect(session.client.getServerVersion()?.name).toBe('earshot');

    const progress: number[] = [];
    const result = (await session.client.callTool(
      { name: 'speak', arguments: { text: LONG_TEXT } },
      undefined,
      { onprogress: (p) => progress.push(p.progress) },
    )) as CallToolResult;
    expect(result.isError).toBeFalsy();
    const { id, playersReached } = result.structuredContent as { id: string; playersReached: number };
    expect(playersReached).toBe(1);
    expect(progress.length).toBeGreaterThan(0);
    const end = await player.waitFor('speech.end', (m) => m.id === id);
    expect(player.audioOf(id).length).toBe(end.bytes);
    expect(end.bytes).toBeGreaterThan(10_000);

    // Cancelling the call over stdio reaches the server: the speech stops on the player.
    const longer = Array.from({ length: 60 }, () => LONG_TEXT)
      .join(' ')
      .slice(0, 4900);
    const abort = new AbortController();
    const call = session.client.callTool({ name: 'speak', arguments: { text: longer } }, undefined, {
      signal: abort.signal,
    });
    const start = await player.waitFor('speech.start', (m) => m.text === longer);
    abort.abort();
    await expect(call).rejects.toThrow();
    await player.waitFor('speech.stopped', (m) => m.id === start.id);

    expect(session.stdoutErrors).toEqual([]);
    const pid = session.transport.pid;
    // The SDK's close() ends stdin, then sends SIGTERM after 2 s: the log says which one stopped it.
    await session.close();
    expect(await exited(pid)).toBe(true);
    expect(session.stderr()).toMatch(/"reason":"stdin closed"/);
    expect(session.stderr()).not.toMatch(/"reason":"SIGTERM"/);
    await player.close();
  });

  it('writes nothing but JSON-RPC lines on stdout', async () => {
    const child = spawn(process.execPath, [CLI_PATH, 'mcp'], {
      env: {
        PATH: process.env.PATH ?? '',
        EARSHOT_URL: `${server.url}/mcp`,
        EARSHOT_API_KEY: server.keys.alice!,
        EARSHOT_LOG_LEVEL: 'trace',
      },
    });
    let stdout = '';
    child.stdout.on('data', (data: Buffer) => (stdout += data.toString()));
    const send = (message: object) => child.stdin.write(`${JSON.stringify(message)}\n`);
    send({
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
    });
    await waitForText(() => stdout, /"id":1/);
    send({ jsonrpc: '2.0', method: 'notifications/initialized' });
    send({ jsonrpc: '2.0', id: 2, method: 'tools/list' });
    send({ jsonrpc: '2.0', id: 3, method: 'ping' });
    await waitForText(() => stdout, /"id":3/);
    await waitForText(() => stdout, /"id":2/);
    const exit = new Promise<number | null>((resolve) => child.on('close', resolve));
    child.stdin.end();
    expect(await exit).toBe(0);

    const lines = stdout.split('\n').filter((line) => line !== '');
    expect(lines.length).toBe(3);
    for (const line of lines) expect((JSON.parse(line) as { jsonrpc: string }).jsonrpc).toBe('2.0');
    const byId = new Map(
      lines.map((line) => JSON.parse(line) as { id: number; result: unknown }).map((m) => [m.id, m]),
    );
    expect((byId.get(1)?.result as { serverInfo: { name: string } }).serverInfo.name).toBe('earshot');
    expect((byId.get(2)?.result as { tools: unknown[] }).tools.length).toBeGreaterThan(0);
    expect(byId.get(3)?.result).toEqual({});
  });

  it('a bad key: a clear message on stderr, exit 1, nothing on stdout', async () => {
    const { code, stdout, stderr } = await runToExit({
      EARSHOT_URL: server.url,
      EARSHOT_API_KEY: 'esk_not_a_valid_key_at_all_0000',
    });
    expect(code).toBe(1);
    expect(stderr).toContain(`Earshot at ${server.url} rejected the API key from EARSHOT_API_KEY (HTTP 401)`);
    expect(stderr).not.toContain('esk_not_a_valid_key');
    expect(stdout).toBe('');
  });

  it('no key: says to set EARSHOT_API_KEY', async () => {
    const { code, stderr } = await runToExit({ EARSHOT_URL: server.url });
    expect(code).toBe(1);
    expect(stderr).toContain('needs an API key: set EARSHOT_API_KEY');
  });

  it('an unreachable server: a clear message and exit 1', async () => {
    const port = await freePort();
    const { code, stdout, stderr } = await runToExit({
      EARSHOT_URL: `http://127.0.0.1:${port}`,
      EARSHOT_API_KEY: server.keys.alice!,
    });
    expect(code).toBe(1);
    expect(stderr).toContain(`Cannot reach Earshot at http://127.0.0.1:${port}`);
    expect(stdout).toBe('');
  });
});

describe('earshot mcp without EARSHOT_URL', () => {
  let port: number;
  let dataDir: string;
  let otherDir: string;
  const sessions: StdioSession[] = [];
  beforeAll(async () => {
    port = await freePort();
    dataDir = await mkdtemp(join(tmpdir(), 'earshot-stdio-'));
    otherDir = await mkdtemp(join(tmpdir(), 'earshot-stdio-other-'));
  });
  afterAll(async () => {
    for (const session of sessions) await session.close().catch(() => undefined);
    await rm(dataDir, { recursive: true, force: true });
    await rm(otherDir, { recursive: true, force: true });
  });

  it('starts its own server, prints the player URL on stderr, a second one reuses it, and it stops with stdin', async () => {
    // Info logs say why each process stopped.
    const env = { PORT: String(port), EARSHOT_DATA_DIR: dataDir, EARSHOT_LOG_LEVEL: 'info' };
    const first = await connectStdio(env, dataDir);
    sessions.push(first);
    const base = `http://127.0.0.1:${port}`;
    await waitForText(first.stderr, /Open the player/);
    expect(first.stderr()).toContain(`${base}/ (sign in with the key in ${join(dataDir, 'api-key')}`);
    const key = (await readFile(join(dataDir, 'api-key'), 'utf8')).trim();
    expect(first.stderr()).not.toContain(key);
    const page = await fetch(`${base}/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toMatch(/<html/i);

    const player = await connectPlayer(base, key);
    await player.waitFor('hello');
    const result = (await first.client.callTool({
      name: 'speak',
      arguments: { text: 'Spoken through my own server.' },
    })) as CallToolResult;
    expect(result.isError).toBeFalsy();
    const { id } = result.structuredContent as { id: string };
    const end = await player.waitFor('speech.end', (m) => m.id === id);
    expect(end.bytes).toBeGreaterThan(0);
    // Served in process, not bridged over HTTP to itself: its server logged no request to /mcp (it logs each
    // request at info), though it logged the player's connection (written after it: log lines are buffered).
    await waitForText(first.stderr, /player connected/);
    expect(first.stderr()).not.toMatch(/"url":"\/mcp"/);

    // A second `earshot mcp` on the same port finds the running server and bridges to it.
    const second = await connectStdio(env, dataDir);
    sessions.push(second);
    await waitForText(second.stderr, /Using the Earshot server already running at/);
    const again = (await second.client.callTool({
      name: 'speak',
      arguments: { text: 'Spoken through the shared server.' },
    })) as CallToolResult;
    expect(again.isError).toBeFalsy();
    const secondId = (again.structuredContent as { id: string }).id;
    await player.waitFor('speech.end', (m) => m.id === secondId);

    // One started from a directory without that key says so instead of failing obscurely.
    const stranger = await runToExit({ PORT: String(port), EARSHOT_DATA_DIR: otherDir }, otherDir);
    expect(stranger.code).toBe(1);
    expect(stranger.stderr).toMatch(/another directory/);
    expect(stranger.stdout).toBe('');
    await writeFile(join(otherDir, 'api-key'), 'esk_a_key_from_some_other_install_0000\n');
    const mismatch = await runToExit({ PORT: String(port), EARSHOT_DATA_DIR: otherDir }, otherDir);
    expect(mismatch.code).toBe(1);
    expect(mismatch.stderr).toMatch(/rejected the API key from the key file .*another directory/s);

    expect(first.stdoutErrors).toEqual([]);
    expect(second.stdoutErrors).toEqual([]);

    // Closing the second leaves the first's server up; closing the first stops it.
    const secondPid = second.transport.pid;
    await second.close();
    expect(await exited(secondPid)).toBe(true);
    expect(await answers(`${base}/healthz`)).toBe(true);
    const firstPid = first.transport.pid;
    await first.close();
    expect(await exited(firstPid)).toBe(true);
    expect(await answers(`${base}/healthz`)).toBe(false);
    await player.closed;
    // Both stopped because stdin closed, not because the SDK's close() fell back to SIGTERM.
    for (const session of [first, second]) {
      expect(session.stderr()).toMatch(/"reason":"stdin closed"/);
      expect(session.stderr()).not.toMatch(/"reason":"SIGTERM"/);
    }
  }, 90_000);

  it('serves a 2026-07-28 client that negotiates on its own (SDK v2, mode auto) from its own server', async () => {
    // The v2 client probes server/discover on a short-lived second `earshot mcp` first, then starts the real one.
    const transport = new StdioClientTransportV2({
      command: process.execPath,
      args: [CLI_PATH, 'mcp'],
      env: { PORT: String(port), EARSHOT_DATA_DIR: dataDir, EARSHOT_LOG_LEVEL: 'info' },
      cwd: dataDir,
      stderr: 'pipe',
    });
    let stderr = '';
    transport.stderr?.on('data', (data: Buffer) => (stderr += data.toString()));
    const client = new ClientV2(
      { name: 'modern-stdio', version: '1' },
      { versionNegotiation: { mode: 'auto' } },
    );
    await client.connect(transport);
    expect(client.getNegotiatedProtocolVersion()).toBe('2026-07-28');
    // No initialize travels, so connect() returns before the server is up: its stderr line says when it is.
    await waitForText(() => stderr, /Open the player/);
    const base = `http://127.0.0.1:${port}`;
    const key = (await readFile(join(dataDir, 'api-key'), 'utf8')).trim();
    const player = await connectPlayer(base, key);
    await player.waitFor('hello');
    const result = await client.callTool({
      name: 'speak',
      arguments: { text: 'Spoken to a modern client.' },
    });
    expect(result.isError, JSON.stringify(result.content)).toBeFalsy();
    const { id } = result.structuredContent as { id: string };
    await player.waitFor('speech.end', (m) => m.id === id);
    const pid = transport.pid;
    await client.close();
    expect(await exited(pid)).toBe(true);
    expect(await answers(`${base}/healthz`)).toBe(false);
    expect(stderr).toMatch(/"reason":"stdin closed"/);
    await player.closed;
  });

  it('with EARSHOT_API_KEYS and a key that is not one of them: a clear message, exit 1, its server stopped', async () => {
    const ownPort = await freePort();
    const { code, stdout, stderr } = await runToExit(
      {
        PORT: String(ownPort),
        EARSHOT_DATA_DIR: otherDir,
        // The SHA-256 of "the-right-key-0123456789", as `earshot keys create` would print it.
        EARSHOT_API_KEYS: `carol:${sha256Hex('the-right-key-0123456789')}`,
        EARSHOT_API_KEY: 'a-wrong-key-0123456789',
      },
      otherDir,
    );
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toContain('rejected the API key from EARSHOT_API_KEY');
    expect(stderr).not.toContain('a-wrong-key-0123456789');
    expect(await answers(`http://127.0.0.1:${ownPort}/healthz`)).toBe(false);
  });

  it('with auth turned off, a key that is none of its keys is served as the default user, as over HTTP', async () => {
    const ownPort = await freePort();
    const session = await connectStdio(
      {
        PORT: String(ownPort),
        EARSHOT_DATA_DIR: otherDir,
        EARSHOT_DANGEROUSLY_OMIT_AUTH: '1',
        EARSHOT_API_KEYS: `carol:${sha256Hex('the-right-key-0123456789')}`,
        EARSHOT_API_KEY: 'a-wrong-key-0123456789',
      },
      otherDir,
    );
    sessions.push(session);
    const result = (await session.client.callTool({ name: 'get_settings', arguments: {} })) as CallToolResult;
    expect(result.isError).toBeFalsy();
    await session.close();
    expect(await exited(session.transport.pid)).toBe(true);
  });

  it('stops on SIGTERM', async () => {
    const session = await connectStdio(
      { PORT: String(port), EARSHOT_DATA_DIR: dataDir, EARSHOT_LOG_LEVEL: 'info' },
      dataDir,
    );
    sessions.push(session);
    await waitForText(session.stderr, /Open the player/);
    const pid = session.transport.pid!;
    process.kill(pid, 'SIGTERM');
    expect(await exited(pid)).toBe(true);
    expect(await answers(`http://127.0.0.1:${port}/healthz`)).toBe(false);
    expect(session.stderr()).toMatch(/"reason":"SIGTERM"/);
  });
});

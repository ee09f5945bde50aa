// Slow and greedy clients on a real loopback socket: every slow request is cut within its deadline, long answers
// (an MCP speak waiting for "played", a player WebSocket) are not, one client cannot hold every socket, and a
// request without a key never gets its body read.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { captureLog, LEVEL, type CapturedLog } from './support/log-capture.js';
import { connectMcp } from './support/mcp.js';
import { connectPlayer } from './support/player.js';
import { openRaw, within, type RawConnection } from './support/raw-http.js';
import { startTestServer, type TestServer } from './support/server.js';

const HEADERS_TIMEOUT_MS = 300;
const REQUEST_TIMEOUT_MS = 600;
const KEEP_ALIVE_TIMEOUT_MS = 300;
/** How long a test waits for the server to close a socket before it calls that a failure (never a pass). */
const FAIL_AFTER_MS = 8_000;

const head = (lines: string[]) => `${lines.join('\r\n')}\r\n\r\n`;

async function expectClosedWith408(connection: RawConnection, what: string): Promise<void> {
  const sent = await within(connection.closed, FAIL_AFTER_MS, `the server left ${what} open`);
  expect(sent).toMatch(/^HTTP\/1\.1 408 /);
}

describe('slow requests are cut, long answers are not', () => {
  let server: TestServer;
  let host: string;
  beforeAll(async () => {
    server = await startTestServer({
      env: {
        EARSHOT_HEADERS_TIMEOUT_MS: String(HEADERS_TIMEOUT_MS),
        EARSHOT_REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS),
        EARSHOT_KEEP_ALIVE_TIMEOUT_MS: String(KEEP_ALIVE_TIMEOUT_MS),
      },
    });
    host = new URL(server.url).host;
  });
  afterAll(() => server.close());

  it('closes a socket that connects and never sends a byte', async () => {
    // Node starts the head clock at connect: silence is a head that never ends.
    await expectClosedWith408(await openRaw(server.url), 'a silent socket');
  });

  it('closes a slowloris socket whose headers never end, with 408', async () => {
    const slowloris = await openRaw(server.url);
    slowloris.write(`GET /healthz HTTP/1.1\r\nHost: ${host}\r\nX-Slow: `);
    await expectClosedWith408(slowloris, 'a socket with unfinished headers');
  });

  it('closes a socket whose body never arrives, with 408, even with a valid key', async () => {
    const slowBody = await openRaw(server.url);
    slowBody.write(
      head([
        'POST /mcp HTTP/1.1',
        `Host: ${host}`,
        `Authorization: Bearer ${server.keys.alice}`,
        'Content-Type: application/json',
        'Accept: application/json, text/event-stream',
        'Content-Length: 1000',
      ]) + '{"jsonrpc":',
    );
    await expectClosedWith408(slowBody, 'a socket whose body stopped after 11 of 1000 bytes');
  });

  it('closes an idle keep-alive socket after its last answer', async () => {
    const idle = await openRaw(server.url);
    idle.write(head(['GET /healthz HTTP/1.1', `Host: ${host}`]));
    expect((await idle.head()).status).toBe(200);
    const sent = await within(idle.closed, FAIL_AFTER_MS, 'the server left an idle keep-alive socket open');
    expect(sent).toMatch(/^HTTP\/1\.1 200 /);
  });

  it('keeps an MCP answer and a player open past every deadline while slow requests beside them are cut', async () => {
    const player = await connectPlayer(server.url, server.keys.alice!, { audio: 'on' });
    const client = await connectMcp(server.url, server.keys.alice);
    const call = client.callTool({ name: 'speak', arguments: { text: 'Take your time.', wait: 'played' } });
    const end = await player.waitFor('speech.end');
    // A request that starts now and is cut at its deadline proves the speak call, which started earlier and
    // waits for "played", has been open longer than any request may take.
    const slowBody = await openRaw(server.url);
    slowBody.write(
      head([
        'POST /api/v1/speak HTTP/1.1',
        `Host: ${host}`,
        `Authorization: Bearer ${server.keys.alice}`,
        'Content-Type: application/json',
        'Content-Length: 100',
      ]),
    );
    await expectClosedWith408(slowBody, 'a slow body beside a long MCP call');
    expect(player.socket.readyState).toBe(WebSocket.OPEN);
    player.send({ type: 'played', id: end.id });
    const result = await call;
    expect(result.isError).toBeFalsy();
    expect(result.structuredContent).toMatchObject({ status: 'completed', played: true });
    player.send({ type: 'ping' });
    expect(player.socket.readyState).toBe(WebSocket.OPEN);
    await client.close();
    await player.close();
  });
});

describe('connections per client', () => {
  const LIMIT = 4;
  let server: TestServer;
  let log: CapturedLog;
  let host: string;
  beforeAll(async () => {
    log = captureLog('info');
    server = await startTestServer({
      env: { EARSHOT_MAX_CONNECTIONS_PER_CLIENT: String(LIMIT) },
      logger: log.logger,
    });
    host = new URL(server.url).host;
  });
  afterAll(() => server.close());

  const healthOn = async (connection: RawConnection) => {
    connection.write(head(['GET /healthz HTTP/1.1', `Host: ${host}`]));
    return (await connection.head()).status;
  };

  it('refuses sockets over the cap, logs it once, and serves again when one closes', async () => {
    const held = await Promise.all(Array.from({ length: LIMIT }, () => openRaw(server.url)));
    for (const connection of held) expect(await healthOn(connection)).toBe(200);
    for (let attempt = 0; attempt < 3; attempt++) {
      const refused = await openRaw(server.url);
      expect(await within(refused.closed, FAIL_AFTER_MS, 'a socket over the cap was kept')).toBe('');
    }
    held[0]!.socket.destroy();
    await held[0]!.closed;
    // The server counts the freed socket when its own close event runs; retry until it has (bounded).
    let status = 0;
    for (let attempt = 0; attempt < 50 && status !== 200; attempt++) {
      const next = await openRaw(server.url);
      status = await healthOn(next).catch(() => 0);
      next.socket.destroy();
      await next.closed;
    }
    expect(status).toBe(200);
    for (const connection of held) connection.socket.destroy();
    const refusals = log.lines().filter((line) => /EARSHOT_MAX_CONNECTIONS_PER_CLIENT/.test(line.msg ?? ''));
    expect(refusals).toHaveLength(1);
    expect(refusals[0]!.level).toBe(LEVEL.warn);
  });
});

describe('a request without a valid key is refused before its body is read', () => {
  let server: TestServer;
  let host: string;
  beforeAll(async () => {
    server = await startTestServer();
    host = new URL(server.url).host;
  });
  afterAll(() => server.close());

  it('answers bad JSON without a key with 401, on MCP and REST', async () => {
    for (const [method, path] of [
      ['POST', '/mcp'],
      ['POST', '/api/v1/speak'],
      ['PUT', '/api/v1/settings'],
    ] as const) {
      for (const authorization of [undefined, 'Bearer not-a-valid-key-at-all']) {
        const response = await fetch(`${server.url}${path}`, {
          method,
          headers: {
            'content-type': 'application/json',
            accept: 'application/json, text/event-stream',
            ...(authorization ? { authorization } : {}),
          },
          body: '{"text":',
        });
        expect(response.status, `${method} ${path} ${authorization ?? 'no key'}`).toBe(401);
        expect(((await response.json()) as { error: { code: string } }).error.code).toBe('unauthorized');
      }
    }
  });

  it('answers an announced body without a key at once and closes, without waiting for the body', async () => {
    // 1000: the body never comes (a server that read it first would wait); 50 MB: far over the body limit (a
    // server that checked the body first would answer 413).
    for (const [path, length] of [
      ['/mcp', 1000],
      ['/mcp', 50_000_000],
      ['/api/v1/speak', 1000],
      ['/api/v1/speak', 50_000_000],
    ] as const) {
      const connection = await openRaw(server.url);
      connection.write(
        head([
          `POST ${path} HTTP/1.1`,
          `Host: ${host}`,
          'Content-Type: application/json',
          'Accept: application/json, text/event-stream',
          `Content-Length: ${length}`,
        ]) + '{"jsonrpc":"2.0",',
      );
      const { status, head: responseHead } = await within(
        connection.head(),
        FAIL_AFTER_MS,
        `${path}: no answer`,
      );
      expect(status, path).toBe(401);
      expect(responseHead.toLowerCase()).toContain('connection: close');
      await within(connection.closed, FAIL_AFTER_MS, `${path}: the socket stayed open`);
    }
  });

  it('still reads and answers bodies that come with a valid key', async () => {
    const badJson = await fetch(`${server.url}/api/v1/speak`, {
      method: 'POST',
      headers: { authorization: `Bearer ${server.keys.alice}`, 'content-type': 'application/json' },
      body: '{"text":',
    });
    expect(badJson.status).toBe(400);
    const tooLarge = await fetch(`${server.url}/api/v1/speak`, {
      method: 'POST',
      headers: { authorization: `Bearer ${server.keys.alice}`, 'content-type': 'application/json' },
      body: JSON.stringify({ text: 'a'.repeat(600_000) }),
    });
    expect(tooLarge.status).toBe(413);
  });
});

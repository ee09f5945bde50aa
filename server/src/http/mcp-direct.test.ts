import {
  Agent,
  createServer,
  request as httpRequest,
  type IncomingHttpHeaders,
  type Server,
} from 'node:http';
import { connect, type Socket } from 'node:net';
import { PassThrough } from 'node:stream';
import Fastify from 'fastify';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { captureLog } from '../../test/support/log-capture.js';
import { KeyRing, sha256Hex } from '../auth/keys.js';
import type { McpAnswer, McpPost, McpPostHandler } from '../mcp/index.js';
import { mcpDirect } from './mcp-direct.js';
import { SECURITY_HEADERS } from './security.js';

const KEY = 'direct-test-key-0123456789';
const BODY = JSON.stringify({
  jsonrpc: '2.0',
  id: 7,
  method: 'tools/call',
  params: { name: 'get_settings' },
});

/** What the stand-in post handler answers next, and the posts it got. */
let nextAnswer: () => Promise<McpAnswer>;
let posts: McpPost[];
let closing: boolean;
let handlerReady: boolean;
const log = captureLog('info');
const handler: McpPostHandler = {
  answer: (post) => {
    posts.push(post);
    return nextAnswer();
  },
  close: async () => undefined,
};
const direct = mcpDirect({
  policy: { allowedHosts: ['earshot.example'], allowedOrigins: [] },
  keyRing: new KeyRing([{ user: 'alice', sha256: sha256Hex(KEY) }]),
  bodyLimit: 1024,
  parseJson: (text) => {
    let result: unknown;
    void Fastify().getDefaultJsonParser('error', 'error')(
      undefined as never,
      text,
      (error, body: unknown) => {
        if (error) throw error;
        result = body;
      },
    );
    return result;
  },
  requestId: (request) => (request.headers['x-request-id'] as string | undefined) ?? 'req-test',
  logger: log.logger,
  handler: () => (handlerReady ? handler : undefined),
  closing: () => closing,
});

/** A real server: the direct path in front of a stand-in for Fastify that answers 299 to whatever it is left. */
let server: Server;
let port: number;
beforeAll(async () => {
  server = createServer((request, response) => {
    if (direct(request, response)) return;
    request.resume();
    request.on('end', () => response.writeHead(299, { 'x-left-to': 'fastify' }).end());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as { port: number }).port;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
beforeEach(() => {
  posts = [];
  closing = false;
  handlerReady = true;
  nextAnswer = async () => ({
    status: 200,
    headers: { 'content-type': 'application/json; charset=utf-8' },
    body: '{}',
  });
});

interface Sent {
  readonly method?: string;
  readonly path?: string;
  readonly headers?: Record<string, string | undefined>;
  readonly body?: string;
  /** A keep-alive agent, so a `connection: close` in the answer is the server's own. */
  readonly agent?: Agent;
}

/** One request on its own connection; the status, headers and body that came back. */
function send(sent: Sent = {}): Promise<{ status: number; headers: IncomingHttpHeaders; body: string }> {
  const body = sent.body ?? BODY;
  const headers: Record<string, string> = {
    host: `127.0.0.1:${port}`,
    authorization: `Bearer ${KEY}`,
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(body)),
  };
  for (const [name, value] of Object.entries(sent.headers ?? {})) {
    if (value === undefined) delete headers[name];
    else headers[name] = value;
  }
  return new Promise((resolve, reject) => {
    const call = httpRequest(
      {
        host: '127.0.0.1',
        port,
        method: sent.method ?? 'POST',
        path: sent.path ?? '/mcp',
        headers,
        agent: sent.agent ?? false,
      },
      (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (text += chunk));
        response.on('end', () =>
          resolve({ status: response.statusCode ?? 0, headers: response.headers, body: text }),
        );
      },
    );
    call.on('error', reject);
    call.end(body);
  });
}

describe('the direct path for POST /mcp', () => {
  it('takes an agent call with a valid key and hands the parsed body and user to the post handler', async () => {
    const answer = await send({ headers: { 'content-type': 'application/json; charset=UTF-8' } });
    expect(answer.status).toBe(200);
    expect(posts).toHaveLength(1);
    expect(posts[0]).toMatchObject({ user: 'alice', method: 'POST', url: '/mcp', body: JSON.parse(BODY) });
    // A configured name is served as well as loopback addresses.
    expect((await send({ headers: { host: 'earshot.example' } })).status).toBe(200);
  });

  it.each<[string, Sent]>([
    ['another method', { method: 'PUT' }],
    ['a query string', { path: '/mcp?x=1' }],
    ['a percent-encoded path', { path: '/%6dcp' }],
    ['a trailing slash', { path: '/mcp/' }],
    ['a browser (any Origin)', { headers: { origin: `http://127.0.0.1:${port}` } }],
    ['a Host not served here', { headers: { host: 'evil.example' } }],
    ['a Host that only ends like one served here', { headers: { host: 'notearshot.example' } }],
    ['no content type', { headers: { 'content-type': undefined } }],
    ['another content type', { headers: { 'content-type': 'text/plain' } }],
    ['another charset', { headers: { 'content-type': 'application/json; charset=latin1' } }],
    ['a chunked body', { headers: { 'content-length': undefined, 'transfer-encoding': 'chunked' } }],
    ['an empty body', { body: '', headers: { 'content-length': '0' } }],
    ['a body over the limit', { body: ' '.repeat(1025) }],
    ['no key', { headers: { authorization: undefined } }],
    ['a wrong key', { headers: { authorization: 'Bearer not-the-key-0123456789' } }],
    ['an OAuth access token', { headers: { authorization: 'Bearer eso_at_0123456789' } }],
    ['a key sent another way', { headers: { authorization: `Basic ${KEY}` } }],
  ])('leaves %s to Fastify, body unread', async (_what, sent) => {
    const answer = await send(sent);
    expect(answer.status).toBe(299);
    expect(answer.headers['x-left-to']).toBe('fastify');
    expect(posts).toHaveLength(0);
  });

  it('leaves every call to Fastify while the server closes, and before the MCP routes exist', async () => {
    closing = true;
    expect((await send()).status).toBe(299);
    closing = false;
    handlerReady = false;
    expect((await send()).status).toBe(299);
    expect(posts).toHaveLength(0);
  });

  it('answers with the security headers and CORS Vary every Fastify response has, and logs the request', async () => {
    nextAnswer = async () => ({
      status: 200,
      headers: { 'content-type': 'application/json; charset=utf-8' },
      body: '{"é":1}',
    });
    const answer = await send({ headers: { 'x-request-id': 'trace-42' } });
    expect(answer.body).toBe('{"é":1}');
    expect(answer.headers['content-length']).toBe(String(Buffer.byteLength('{"é":1}')));
    expect(answer.headers.vary).toBe('Origin');
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) expect(answer.headers[name]).toBe(value);
    await expect
      .poll(() => log.lines().filter((line) => line.reqId === 'trace-42'))
      .toEqual([expect.objectContaining({ msg: 'request', method: 'POST', url: '/mcp', status: 200 })]);
  });

  it('answers and logs nothing for a client that leaves before its body is in, and keeps serving', async () => {
    const accepted = new Promise<Socket>((resolve) => server.once('connection', resolve));
    const requested = new Promise((resolve) => server.once('request', resolve));
    const socket = connect(port, '127.0.0.1');
    socket.write(
      `POST /mcp HTTP/1.1\r\nhost: 127.0.0.1:${port}\r\nauthorization: Bearer ${KEY}\r\n` +
        'content-type: application/json\r\nx-request-id: left-early\r\ncontent-length: 100\r\n\r\n{"json',
    );
    const serverSide = await accepted;
    // The direct path has taken the request (its headers are in; the server's own listener ran first).
    await requested;
    socket.destroy();
    // The server's end of the connection closed: the request's response has closed too.
    await new Promise((resolve) => serverSide.once('close', resolve));
    expect(posts).toHaveLength(0);
    expect(log.lines().filter((line) => line.reqId === 'left-early')).toEqual([]);
    expect((await send()).status).toBe(200);
  });

  it('refuses a body that is not JSON as Fastify does, and closes the connection', async () => {
    const body = '{"jsonrpc":';
    const agent = new Agent({ keepAlive: true });
    const answer = await send({ body, agent });
    agent.destroy();
    expect(answer.status).toBe(400);
    expect(answer.headers.connection).toBe('close');
    expect(JSON.parse(answer.body)).toEqual({
      error: { code: 'FST_ERR_CTP_INVALID_JSON_BODY', message: expect.stringContaining('not valid JSON') },
    });
    const poisoned = await send({ body: '{"__proto__":{"admin":true}}' });
    expect(poisoned.status).toBe(400);
    expect(posts).toHaveLength(0);
  });

  it('streams a Node or web stream as it is written', async () => {
    const stream = new PassThrough();
    nextAnswer = async () => ({
      status: 200,
      headers: { 'content-type': 'text/event-stream' },
      body: stream,
    });
    const pending = send();
    await expect.poll(() => posts.length).toBe(1);
    stream.write('event: message\ndata: 1\n\n');
    stream.end('event: message\ndata: 2\n\n');
    const answer = await pending;
    expect(answer.headers['content-type']).toBe('text/event-stream');
    expect(answer.body).toBe('event: message\ndata: 1\n\nevent: message\ndata: 2\n\n');

    nextAnswer = async () => ({
      status: 200,
      headers: { 'content-type': 'text/event-stream' },
      body: new Response('data: web\n\n').body!,
    });
    expect((await send()).body).toBe('data: web\n\n');
  });

  it('answers a failure of the handler with a generic 500 and keeps serving', async () => {
    nextAnswer = () => Promise.reject(new Error('boom: secret detail'));
    const failed = await send();
    expect(failed.status).toBe(500);
    expect(JSON.parse(failed.body)).toEqual({
      error: { code: 'internal', message: 'Internal error; the server log has details.' },
    });
    expect(failed.body).not.toContain('secret detail');
    nextAnswer = async () => ({ status: 200, headers: {}, body: 'ok' });
    expect((await send()).status).toBe(200);
  });
});

import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { LATEST_PROTOCOL_VERSION } from '@modelcontextprotocol/sdk/types.js';
import type { FastifyRequest } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mcpPostHeaders, MODERN_REVISION } from './support/mcp.js';
import { startTestServer, type TestServer } from './support/server.js';
import { sseEvents } from './support/tool-calls.js';

/** Fastify publishes each request its route handler runs on this channel (when someone listens). */
const FASTIFY_HANDLER_START = 'tracing:fastify.request.handler:start';
/** Headers that differ between any two answers (or with the connection's reuse), not between the two paths. */
const PER_ANSWER = new Set(['date', 'keep-alive', 'connection']);

const ENVELOPE = {
  'io.modelcontextprotocol/protocolVersion': MODERN_REVISION,
  'io.modelcontextprotocol/clientInfo': { name: 'earshot-test', version: '1.0.0' },
  'io.modelcontextprotocol/clientCapabilities': {},
};

interface Sent {
  readonly body: string;
  readonly headers?: Record<string, string>;
  /** False for a body Fastify's parser refuses: its route handler never runs (the direct path's test covers it). */
  readonly handled?: false;
}

/**
 * The direct path for the common MCP call (http/mcp-direct.ts) answers exactly as Fastify's /mcp route: the same
 * request sent to `/mcp` (taken directly) and to `/mcp?via=fastify` (which the direct path leaves to Fastify, the
 * router matching it to the same route) gets the same status, headers and body, whatever the post handler
 * answers: JSON, errors, streams, the SDK's own answers.
 */
describe('POST /mcp served directly and through Fastify alike', () => {
  let server: TestServer;
  const throughFastify: string[] = [];
  const onHandler = (message: unknown) =>
    throughFastify.push((message as { request: FastifyRequest }).request.url);

  beforeAll(async () => {
    server = await startTestServer();
    subscribe(FASTIFY_HANDLER_START, onHandler);
  });
  afterAll(async () => {
    unsubscribe(FASTIFY_HANDLER_START, onHandler);
    await server.close();
  });

  async function post(path: string, sent: Sent) {
    const before = throughFastify.length;
    const response = await fetch(`${server.url}${path}`, {
      method: 'POST',
      headers: mcpPostHeaders(server.keys.alice!, sent.headers),
      body: sent.body,
    });
    const headers = Object.fromEntries([...response.headers].filter(([name]) => !PER_ANSWER.has(name)));
    const text = await response.text();
    return { status: response.status, headers, text, viaFastify: throughFastify.slice(before) };
  }

  /** Both paths' answers to one request, each checked to have taken its path. */
  async function both(sent: Sent) {
    const direct = await post('/mcp', sent);
    const fastify = await post('/mcp?via=fastify', sent);
    expect(direct.viaFastify).toEqual([]);
    expect(fastify.viaFastify).toEqual(sent.handled === false ? [] : ['/mcp?via=fastify']);
    return { direct, fastify };
  }

  const call = (id: number, name: string, args: Record<string, unknown>, meta?: object) =>
    JSON.stringify({
      jsonrpc: '2.0',
      id,
      method: 'tools/call',
      params: { name, arguments: args, _meta: meta },
    });

  it.each<[string, Sent]>([
    ['a quick 2025 tool call (JSON)', { body: call(1, 'get_settings', {}) }],
    ['arguments the schema refuses', { body: call(2, 'speak', { text: 42 }) }],
    [
      'an envelope field too large',
      { body: call(3, 'get_settings', {}, { progressToken: 'x'.repeat(5000) }) },
    ],
    ['a body that is not JSON', { body: '{"jsonrpc":"2.0",', handled: false }],
    [
      'a body with a __proto__ key',
      { body: '{"jsonrpc":"2.0","id":4,"__proto__":{"admin":true}}', handled: false },
    ],
    ['a ping (the SDK handler)', { body: JSON.stringify({ jsonrpc: '2.0', id: 5, method: 'ping' }) }],
    [
      'initialize (the SDK handler)',
      {
        body: JSON.stringify({
          jsonrpc: '2.0',
          id: 6,
          method: 'initialize',
          params: {
            protocolVersion: LATEST_PROTOCOL_VERSION,
            capabilities: {},
            clientInfo: { name: 't', version: '1' },
          },
        }),
      },
    ],
    ['a batch', { body: JSON.stringify([{ jsonrpc: '2.0', id: 7, method: 'ping' }]) }],
    [
      'an unknown protocol version',
      { body: call(8, 'get_settings', {}), headers: { 'mcp-protocol-version': '1999-01-01' } },
    ],
    [
      'a 2026-07-28 tool call',
      {
        body: call(9, 'get_settings', {}, ENVELOPE),
        headers: {
          'mcp-protocol-version': MODERN_REVISION,
          'mcp-method': 'tools/call',
          'mcp-name': 'get_settings',
        },
      },
    ],
    [
      'a 2026-07-28 server/discover',
      {
        body: JSON.stringify({
          jsonrpc: '2.0',
          id: 10,
          method: 'server/discover',
          params: { _meta: ENVELOPE },
        }),
        headers: { 'mcp-protocol-version': MODERN_REVISION, 'mcp-method': 'server/discover' },
      },
    ],
  ])('%s', async (_what, sent) => {
    const { direct, fastify } = await both(sent);
    expect(direct.status).toBe(fastify.status);
    expect(direct.headers).toEqual(fastify.headers);
    expect(direct.text).toBe(fastify.text);
  });

  it('a speech, streamed as SSE', async () => {
    const { direct, fastify } = await both({ body: call(11, 'speak', { text: 'Tests pass.', fresh: true }) });
    expect(direct.status).toBe(200);
    expect(direct.headers).toEqual(fastify.headers);
    expect(direct.headers['content-type']).toBe('text/event-stream');
    // Each answer names its own speech; what is said about it is the same.
    const shape = (text: string) =>
      sseEvents(text).map(({ name, data }) => ({
        name,
        id: (data as { id?: unknown }).id,
        keys: Object.keys(data as object),
      }));
    expect(shape(direct.text)).toEqual(shape(fastify.text));
    expect(shape(direct.text).at(-1)).toMatchObject({ name: 'event: message', id: 11 });
  });

  it('leaves a request it would not take to Fastify, which answers it as before', async () => {
    const before = throughFastify.length;
    const response = await fetch(`${server.url}/mcp`, {
      method: 'POST',
      headers: { authorization: 'Bearer wrong-key-0123456789', 'content-type': 'application/json' },
      body: call(12, 'get_settings', {}),
    });
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toContain('resource_metadata=');
    await response.body?.cancel();
    // Refused in an onRequest hook, before any route handler: nothing was published, and nothing read the body.
    expect(throughFastify.slice(before)).toEqual([]);
  });
});

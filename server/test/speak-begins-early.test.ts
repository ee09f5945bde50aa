import type { Standin } from '@earshot/elevenlabs-standin';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { ToolSet, type BegunCall } from '../src/mcp/tool-set.js';
import { connectMcp, MCP_CLIENT_KINDS, MODERN_REVISION } from './support/mcp.js';
import { startWithStandin, type TestServer } from './support/server.js';

const UPSTREAM_KEY = 'el-test-key-begin';

/**
 * A `speak` call over HTTP begins its speech before the MCP SDK's work for it (a 2025 call as the route reads
 * it, a 2026-07-28 call when the SDK asks for the request's server), and the tool's handler takes that speech
 * over. These tests hold the guarantees around it: one speech per call, and nothing begun for a request the
 * SDK then refuses.
 */
describe('speak begins its speech before the MCP SDK dispatches the call', () => {
  let standin: Standin;
  let server: TestServer;
  let begun: (BegunCall | undefined)[];

  let stop: () => Promise<void>;

  beforeAll(async () => {
    ({ standin, server, close: stop } = await startWithStandin(UPSTREAM_KEY));
  });
  afterAll(() => stop());
  beforeEach(() => {
    standin.setPacing({ firstByteLatencyMs: 0, realtimeFactor: Infinity, chunkIntervalMs: 0 });
    begun = [];
    const original: ToolSet['begin'] = Reflect.get(ToolSet.prototype, 'begin');
    vi.spyOn(ToolSet.prototype, 'begin').mockImplementation(function (this: ToolSet, ...args) {
      const call: ReturnType<ToolSet['begin']> = Reflect.apply(original, this, args);
      begun.push(call);
      return call;
    });
  });
  afterEach(() => vi.restoreAllMocks());

  const speechRequests = () => standin.requests.filter((r) => r.path.includes('/text-to-speech/')).length;
  /** GET /api/v1/<path> as alice. */
  const api = async <T>(path: string): Promise<T> => {
    const response = await fetch(`${server.url}/api/v1/${path}`, {
      headers: { authorization: `Bearer ${server.keys.alice}` },
    });
    expect(response.status).toBe(200);
    return (await response.json()) as T;
  };

  for (const kind of MCP_CLIENT_KINDS) {
    it(`${kind} client: the handler takes over the speech begun for its call — one upstream request, one history item`, async () => {
      const client = await connectMcp(server.url, server.keys.alice, kind);
      const before = speechRequests();
      const text = `Begun early for a ${kind} client.`;
      const result = await client.callTool({ name: 'speak', arguments: { text, fresh: true } });
      expect(result.isError).toBeFalsy();
      expect(begun).toHaveLength(1);
      expect(begun[0]).toMatchObject({ tool: 'speak', claimed: true });
      expect(speechRequests() - before).toBe(1);
      const history = await api<{ items: { text: string }[] }>('history?limit=50');
      expect(history.items.filter((item) => item.text === text)).toHaveLength(1);
      await client.close();
    });
  }

  /** A tools/call of speak as a raw POST, with the headers given. */
  async function rawSpeak(headers: Record<string, string>, params: Record<string, unknown> = {}) {
    const response = await fetch(`${server.url}/mcp`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${server.keys.alice}`,
        'content-type': 'application/json',
        ...headers,
      },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 7,
        method: 'tools/call',
        params: { name: 'speak', arguments: { text: 'Never to be spoken.', fresh: true }, ...params },
      }),
    });
    return { status: response.status, body: await response.text() };
  }

  it('begins nothing for a 2025 request its transport refuses (unknown protocol version, Accept without SSE)', async () => {
    const before = speechRequests();
    // Alice's own counters (the upstream account's figures move with other tests' speeches).
    const today = async () => (await api<{ today: unknown }>('usage?days=1')).today;
    const usage = await today();
    const unknownRevision = await rawSpeak({
      accept: 'application/json, text/event-stream',
      'mcp-protocol-version': '1999-01-01',
    });
    expect(unknownRevision.status).toBe(400);
    const noSse = await rawSpeak({ accept: 'application/json' });
    expect(noSse.status).toBe(406);
    expect(begun).toEqual([]);
    expect(speechRequests()).toBe(before);
    expect(await today()).toEqual(usage);
  });

  it('begins nothing for a 2026-07-28 request the SDK refuses (Mcp-Name naming another tool than the body)', async () => {
    const before = speechRequests();
    const refused = await rawSpeak(
      {
        accept: 'application/json, text/event-stream',
        'mcp-protocol-version': MODERN_REVISION,
        'mcp-method': 'tools/call',
        'mcp-name': 'get_settings',
      },
      {
        _meta: {
          'io.modelcontextprotocol/protocolVersion': MODERN_REVISION,
          'io.modelcontextprotocol/clientInfo': { name: 'test', version: '1' },
          'io.modelcontextprotocol/clientCapabilities': {},
        },
      },
    );
    expect(refused.status).toBeGreaterThanOrEqual(400);
    expect(begun).toEqual([]);
    expect(speechRequests()).toBe(before);
  });
});

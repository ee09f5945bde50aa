import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectMcp, MODERN_REVISION } from './support/mcp.js';
import { startTestServer, type TestServer } from './support/server.js';

interface JsonRpcAnswer {
  readonly id: unknown;
  readonly error?: { code: number; message: string; data?: unknown };
  readonly result?: Record<string, unknown>;
}

const ENVELOPE = {
  'io.modelcontextprotocol/protocolVersion': MODERN_REVISION,
  'io.modelcontextprotocol/clientInfo': { name: 'raw', version: '1' },
  'io.modelcontextprotocol/clientCapabilities': {},
};

/**
 * Which MCP revisions /mcp serves: 2026-07-28 (stateless: no initialize, `server/discover`, the revision and
 * client in each request's `_meta`) and the 2025 revisions by the initialize handshake, all on one endpoint.
 */
describe('MCP protocol revisions on /mcp', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ users: ['alice'] });
  });
  afterAll(() => server.close());

  /** One JSON-RPC message posted as is, the answer read whether JSON or one SSE event. */
  async function post(message: unknown, headers: Record<string, string> = {}) {
    const response = await fetch(`${server.url}/mcp`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${server.keys.alice}`,
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        ...headers,
      },
      body: JSON.stringify(message),
    });
    const text = await response.text();
    const json = text.startsWith('{') ? text : (/^data: (.*)$/m.exec(text)?.[1] ?? 'null');
    return { status: response.status, answer: JSON.parse(json) as JsonRpcAnswer };
  }

  /** A 2026-07-28 request: its revision and client in `_meta`, mirrored in the standard headers. */
  const modern = (id: number, method: string, params: Record<string, unknown> = {}, name?: string) =>
    post(
      { jsonrpc: '2.0', id, method, params: { ...params, _meta: ENVELOPE } },
      {
        'mcp-protocol-version': MODERN_REVISION,
        'mcp-method': method,
        ...(name !== undefined && { 'mcp-name': name }),
      },
    );

  it.each(['2025-03-26', '2025-06-18', '2025-11-25'])(
    'a %s client completes initialize on that revision, then lists and calls tools',
    async (revision) => {
      const { answer } = await post({
        jsonrpc: '2.0',
        id: 1,
        method: 'initialize',
        params: { protocolVersion: revision, capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
      });
      expect(answer.result).toMatchObject({
        protocolVersion: revision,
        serverInfo: { name: 'earshot' },
        capabilities: { tools: {}, resources: {}, logging: {} },
      });
      const headers = { 'mcp-protocol-version': revision };
      const listed = await post({ jsonrpc: '2.0', id: 2, method: 'tools/list' }, headers);
      expect((listed.answer.result?.tools as { name: string }[]).map((tool) => tool.name)).toContain('speak');
      const called = await post(
        { jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'get_settings', arguments: {} } },
        headers,
      );
      expect(called.answer.result).toMatchObject({ structuredContent: { auto_play: true } });
    },
  );

  it('answers 2026-07-28 server/discover with the revision, capabilities and instructions', async () => {
    const { status, answer } = await modern(1, 'server/discover');
    expect(status).toBe(200);
    expect(answer.result).toMatchObject({
      supportedVersions: [MODERN_REVISION],
      capabilities: { tools: { listChanged: false }, resources: { listChanged: false }, logging: {} },
    });
    expect(String(answer.result?.instructions)).toMatch(/speak/);
  });

  it('serves a 2026-07-28 tools/call with no initialize before it, as one JSON answer', async () => {
    const { status, answer } = await modern(
      2,
      'tools/call',
      { name: 'get_settings', arguments: {} },
      'get_settings',
    );
    expect(status).toBe(200);
    expect(answer.id).toBe(2);
    expect(answer.result).toMatchObject({ structuredContent: { auto_play: true } });
  });

  it('lists every tool to a 2026-07-28 client, with annotations and output schemas', async () => {
    const { answer } = await modern(3, 'tools/list');
    const tools = answer.result?.tools as { name: string; annotations?: unknown; outputSchema?: unknown }[];
    // Offline: every tool but the ElevenLabs-only ones (docs-tools.test.ts checks the full list).
    expect(tools.length).toBeGreaterThanOrEqual(14);
    const settings = tools.find((tool) => tool.name === 'get_settings');
    expect(settings?.annotations).toMatchObject({ readOnlyHint: true, openWorldHint: false });
    expect(settings?.outputSchema).toMatchObject({ type: 'object' });
  });

  it('refuses an unknown future revision, naming the one it serves', async () => {
    const { status, answer } = await post(
      {
        jsonrpc: '2.0',
        id: 4,
        method: 'tools/list',
        params: { _meta: { ...ENVELOPE, 'io.modelcontextprotocol/protocolVersion': '2099-01-01' } },
      },
      { 'mcp-protocol-version': '2099-01-01', 'mcp-method': 'tools/list' },
    );
    expect(status).toBe(400);
    expect(answer.error).toMatchObject({
      code: -32022,
      data: { supported: [MODERN_REVISION], requested: '2099-01-01' },
    });
  });

  it('refuses a 2026-07-28 request whose Mcp-Name header disagrees with its body', async () => {
    const { status, answer } = await modern(
      5,
      'tools/call',
      { name: 'get_settings', arguments: {} },
      'speak',
    );
    expect(status).toBe(400);
    expect(answer.error?.code).toBe(-32020);
  });

  it('has no logging/setLevel on 2026-07-28 (logging there is per request, in _meta)', async () => {
    const { answer } = await modern(6, 'logging/setLevel', { level: 'info' });
    expect(answer.error?.code).toBe(-32601);
  });

  it('an SDK v2 client negotiating on its own (mode auto) lands on 2026-07-28; left at its default, on 2025-11-25', async () => {
    const transport = () =>
      new StreamableHTTPClientTransport(new URL(`${server.url}/mcp`), {
        requestInit: { headers: { Authorization: `Bearer ${server.keys.alice}` } },
      });
    const auto = new Client({ name: 'auto', version: '1' }, { versionNegotiation: { mode: 'auto' } });
    await auto.connect(transport());
    expect(auto.getNegotiatedProtocolVersion()).toBe(MODERN_REVISION);
    expect((await auto.callTool({ name: 'get_settings', arguments: {} })).isError).toBeFalsy();
    await auto.close();
    const plain = new Client({ name: 'plain', version: '1' });
    await plain.connect(transport());
    expect(plain.getNegotiatedProtocolVersion()).toBe('2025-11-25');
    expect((await plain.callTool({ name: 'get_settings', arguments: {} })).isError).toBeFalsy();
    await plain.close();
  });

  it('gives the pinned 2026-07-28 test client and the SDK v1 client the same tools', async () => {
    const modernClient = await connectMcp(server.url, server.keys.alice, 'modern');
    const legacyClient = await connectMcp(server.url, server.keys.alice, 'legacy');
    expect(modernClient.protocolVersion()).toBe(MODERN_REVISION);
    expect(legacyClient.protocolVersion()).toBe('2025-11-25');
    const names = async (client: typeof modernClient) =>
      (await client.listTools()).tools.map((tool) => tool.name);
    expect(await names(modernClient)).toEqual(await names(legacyClient));
    await modernClient.close();
    await legacyClient.close();
  });

  it('lets an allowed browser origin send the 2026-07-28 request headers', async () => {
    const other = await startTestServer({
      users: ['alice'],
      env: { EARSHOT_ALLOWED_ORIGINS: 'https://console.example' },
    });
    try {
      const preflight = await fetch(`${other.url}/mcp`, {
        method: 'OPTIONS',
        headers: {
          origin: 'https://console.example',
          'access-control-request-method': 'POST',
          'access-control-request-headers':
            'authorization, content-type, mcp-protocol-version, mcp-method, mcp-name',
        },
      });
      expect(preflight.status).toBe(204);
      const allowed = (preflight.headers.get('access-control-allow-headers') ?? '').split(/,\s*/);
      expect(allowed).toEqual(expect.arrayContaining(['mcp-protocol-version', 'mcp-method', 'mcp-name']));
    } finally {
      await other.close();
    }
  });
});

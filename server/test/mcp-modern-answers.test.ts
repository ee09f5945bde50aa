import { PerRequestHTTPServerTransport } from '@modelcontextprotocol/server';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { connectMcp, MODERN_REVISION } from './support/mcp.js';
import { startTestServer, type TestServer } from './support/server.js';
import { QUICK_TOOL_CALLS, readAnswer, sseEvents, STREAMING_TOOL_CALLS } from './support/tool-calls.js';

const ENVELOPE = {
  'io.modelcontextprotocol/protocolVersion': MODERN_REVISION,
  'io.modelcontextprotocol/clientInfo': { name: 'earshot-test', version: '1.0.0' },
  'io.modelcontextprotocol/clientCapabilities': {},
};
/** The Mcp-Name header's base64 form: the SDK's handler decodes it, the route's plain recogniser leaves it be. */
const encodedName = (name: string) => `=?base64?${Buffer.from(name).toString('base64')}?=`;

/**
 * A 2026-07-28 client's plain tool call is served in process (modern-call.ts, sse-answer.ts), as a 2025 one is,
 * and must be answered exactly as the SDK's handler answers it: one JSON body when the answer comes first, else an
 * SSE stream. Whatever the handler would refuse is left to it.
 */
describe('2026-07-28 calls served in process', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server.close());

  async function call(
    name: string,
    args: Record<string, unknown>,
    {
      headers = {},
      meta = ENVELOPE,
    }: { headers?: Record<string, string | null>; meta?: Record<string, unknown> } = {},
  ) {
    const sent: Record<string, string> = {
      authorization: `Bearer ${server.keys.alice}`,
      accept: 'application/json, text/event-stream',
      'content-type': 'application/json',
      'mcp-protocol-version': MODERN_REVISION,
      'mcp-method': 'tools/call',
      'mcp-name': name,
    };
    for (const [header, value] of Object.entries(headers)) {
      if (value === null) delete sent[header];
      else sent[header] = value;
    }
    const response = await fetch(`${server.url}/mcp`, {
      method: 'POST',
      headers: sent,
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 5,
        method: 'tools/call',
        params: { name, arguments: args, _meta: meta },
      }),
    });
    const answer = await readAnswer(response);
    const json = answer.type?.startsWith('application/json') ?? false;
    const body = (json ? JSON.parse(answer.text) : {}) as {
      id?: unknown;
      result?: unknown;
      error?: { code: number };
    };
    return { ...answer, body };
  }

  it('answers each quick tool as the SDK’s handler does, without the handler', async () => {
    const handled = vi.spyOn(PerRequestHTTPServerTransport.prototype, 'handleMessage');
    const calls = QUICK_TOOL_CALLS;
    try {
      for (const [name, args] of calls) {
        handled.mockClear();
        const inProcess = await call(name, args);
        expect(handled).not.toHaveBeenCalled();
        const throughSdk = await call(name, args, { headers: { 'mcp-name': encodedName(name) } });
        expect(handled).toHaveBeenCalledTimes(1);
        expect([inProcess.status, inProcess.type]).toEqual([throughSdk.status, throughSdk.type]);
        // The same answer, on the same revision: its resultType and the serverInfo the revision stamps included.
        expect(inProcess.body, `${name} ${JSON.stringify(args)}`).toEqual(throughSdk.body);
        expect(inProcess.body).toMatchObject({ id: 5, result: { resultType: 'complete' } });
      }
    } finally {
      handled.mockRestore();
    }
  });

  it('leaves to the handler what it refuses, and the handler refuses it', async () => {
    const handled = vi.spyOn(PerRequestHTTPServerTransport.prototype, 'handleMessage');
    const refused: [string, Parameters<typeof call>[2]][] = [
      ['no Mcp-Name', { headers: { 'mcp-name': null } }],
      ['another Mcp-Name', { headers: { 'mcp-name': 'list_voices' } }],
      ['no Mcp-Method', { headers: { 'mcp-method': null } }],
      ['no MCP-Protocol-Version', { headers: { 'mcp-protocol-version': null } }],
      [
        'a revision the SDK does not serve',
        {
          headers: { 'mcp-protocol-version': '2099-01-01' },
          meta: { ...ENVELOPE, 'io.modelcontextprotocol/protocolVersion': '2099-01-01' },
        },
      ],
      [
        'a clientInfo that is not an object',
        { meta: { ...ENVELOPE, 'io.modelcontextprotocol/clientInfo': 'x' } },
      ],
      [
        'a clientInfo without a version',
        { meta: { ...ENVELOPE, 'io.modelcontextprotocol/clientInfo': { name: 'x' } } },
      ],
    ];
    try {
      // The plain call first, so its envelope's verdict is kept.
      expect((await call('get_settings', {})).status).toBe(200);
      for (const [what, options] of refused) {
        const answer = await call('get_settings', {}, options);
        expect(answer.status, what).toBe(400);
        expect(answer.body.error?.code, what).toEqual(expect.any(Number));
        expect(answer.body.result, what).toBeUndefined();
      }
      expect(handled).not.toHaveBeenCalled();
    } finally {
      handled.mockRestore();
    }
  });

  it('serves the official v2 client’s calls in process, a speech with progress among them', async () => {
    const handled = vi.spyOn(PerRequestHTTPServerTransport.prototype, 'handleMessage');
    const client = await connectMcp(server.url, server.keys.alice, 'modern');
    // Connecting asks server/discover, which the handler answers.
    handled.mockClear();
    try {
      const settings = await client.callTool({ name: 'get_settings', arguments: {} });
      expect(settings.isError).toBeFalsy();
      expect(settings.structuredContent).toMatchObject({ message: expect.any(String) });
      expect(handled).not.toHaveBeenCalled();
      const spoken = await client.callTool(
        { name: 'speak', arguments: { text: 'In process too.' } },
        { onprogress: () => undefined },
      );
      expect(spoken.isError).toBeFalsy();
      expect(spoken.structuredContent).toMatchObject({ status: expect.any(String) });
      expect(handled).not.toHaveBeenCalled();
    } finally {
      handled.mockRestore();
      await client.close();
    }
  });

  /** Status, the headers that shape an answer, and its messages: the JSON body, or the stream's events. */
  function shape(answer: Awaited<ReturnType<typeof call>>) {
    const streamed = answer.type?.startsWith('text/event-stream') ?? false;
    return {
      status: answer.status,
      headers: answer.headers,
      messages: streamed ? sseEvents(answer.text) : [answer.body],
    };
  }

  it('answers the tools that may stream as the SDK’s handler does: JSON when the answer comes first, else SSE', async () => {
    const handled = vi.spyOn(PerRequestHTTPServerTransport.prototype, 'handleMessage');
    // Each as it comes, and two with what makes a call send on the way (a progress token, a log level).
    const calls: [string, Record<string, unknown>, Record<string, unknown>][] = [
      ...STREAMING_TOOL_CALLS.map(
        ([name, args]): [string, Record<string, unknown>, Record<string, unknown>] => [name, args, {}],
      ),
      ['speak', { text: 7 }, { progressToken: 'p' }],
      ['stop_speaking', {}, { progressToken: 9, 'io.modelcontextprotocol/logLevel': 'debug' }],
    ];
    try {
      for (const [name, args, meta] of calls) {
        handled.mockClear();
        const inProcess = shape(await call(name, args, { meta: { ...ENVELOPE, ...meta } }));
        expect(handled).not.toHaveBeenCalled();
        const throughSdk = shape(
          await call(name, args, {
            meta: { ...ENVELOPE, ...meta },
            headers: { 'mcp-name': encodedName(name) },
          }),
        );
        expect(handled).toHaveBeenCalledTimes(1);
        expect(inProcess, `${name} ${JSON.stringify(args)} ${JSON.stringify(meta)}`).toEqual(throughSdk);
      }
    } finally {
      handled.mockRestore();
    }
  });

  it('streams a speech’s progress and then its answer, or answers it whole without a progress token, as the handler does', async () => {
    const handled = vi.spyOn(PerRequestHTTPServerTransport.prototype, 'handleMessage');
    /** The kinds of message an answer carries, in order, and how it came (JSON or SSE). */
    const kinds = async (meta: Record<string, unknown>, headers: Record<string, string> = {}) => {
      const answer = await call(
        'speak',
        { text: 'Progress, then the answer.', fresh: true },
        { meta, headers },
      );
      expect(answer.status).toBe(200);
      const { messages } = shape(answer);
      return {
        type: answer.type,
        kinds: messages.map((message) => {
          const data = ('data' in message ? message.data : message) as {
            method?: string;
            id?: number;
            result?: { isError?: boolean };
          };
          return data.method ?? `answer ${data.id} ${data.result?.isError ? 'error' : 'ok'}`;
        }),
      };
    };
    const sdk = { 'mcp-name': encodedName('speak') };
    try {
      const streamed = await kinds({ ...ENVELOPE, progressToken: 'p' });
      const whole = await kinds(ENVELOPE);
      expect(handled).not.toHaveBeenCalled();
      const streamedBySdk = await kinds({ ...ENVELOPE, progressToken: 'p' }, sdk);
      const wholeBySdk = await kinds(ENVELOPE, sdk);
      expect(handled).toHaveBeenCalledTimes(2);
      expect(streamed.type).toMatch(/^text\/event-stream/);
      expect(streamed.kinds).toContain('notifications/progress');
      expect(streamed.kinds.at(-1)).toBe('answer 5 ok');
      expect(new Set(streamed.kinds)).toEqual(new Set(streamedBySdk.kinds));
      expect(streamed.type).toBe(streamedBySdk.type);
      expect(whole.kinds).toEqual(['answer 5 ok']);
      expect(whole.type).toMatch(/^application\/json/);
      expect(wholeBySdk).toEqual(whole);
    } finally {
      handled.mockRestore();
    }
  });
});

import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/server';
import { LATEST_PROTOCOL_VERSION } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startTestServer, type TestServer } from './support/server.js';
import {
  QUICK_TOOL_CALLS,
  readAnswer,
  sseEvents,
  STREAMING_TOOL_CALLS,
  type ToolCall,
} from './support/tool-calls.js';

/**
 * A 2025 client's call of a quick tool that sends nothing on the way (get_settings, list_voices, …) is answered
 * with one JSON body; a call that may send progress or log messages (speak) still streams as SSE. A plain call is
 * served in process (json-answer.ts, sse-answer.ts), and must be answered exactly as the SDK's transport answers.
 */
describe('2025 calls: quick tools answered with JSON, plain calls served in process', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server.close());

  async function call(
    name: string,
    args: Record<string, unknown>,
    { revision = LATEST_PROTOCOL_VERSION, meta }: { revision?: string; meta?: Record<string, unknown> } = {},
  ) {
    const response = await fetch(`${server.url}/mcp`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${server.keys.alice}`,
        accept: 'application/json, text/event-stream',
        'content-type': 'application/json',
        'mcp-protocol-version': revision,
      },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 3,
        method: 'tools/call',
        params: { name, arguments: args, ...(meta ? { _meta: meta } : {}) },
      }),
    });
    return readAnswer(response);
  }

  it('get_settings: one JSON body with the result', async () => {
    const answer = await call('get_settings', {});
    expect(answer.status).toBe(200);
    expect(answer.type).toMatch(/^application\/json/);
    const message = JSON.parse(answer.text) as {
      id: number;
      result: { structuredContent: { message: string } };
    };
    expect(message.id).toBe(3);
    expect(message.result.structuredContent.message).toEqual(expect.any(String));
  });

  it('a refused argument is answered the same way, as a tool error', async () => {
    const answer = await call('list_history', { limit: 'many' });
    expect(answer.type).toMatch(/^application\/json/);
    expect(JSON.parse(answer.text)).toMatchObject({ id: 3, result: { isError: true } });
  });

  it('a plain call is answered in process exactly as the SDK’s transport answers one it must read itself', async () => {
    const handled = vi.spyOn(WebStandardStreamableHTTPServerTransport.prototype, 'handleRequest');
    const calls = QUICK_TOOL_CALLS;
    try {
      for (const revision of ['2025-03-26', '2025-06-18', '2025-11-25']) {
        for (const [name, args] of calls) {
          handled.mockClear();
          const inProcess = await call(name, args, { revision });
          expect(handled).not.toHaveBeenCalled();
          // A reserved _meta key the hand-written check does not take: the SDK's transport reads this one.
          const throughSdk = await call(name, args, { revision, meta: { 'io.modelcontextprotocol/x': 1 } });
          expect(handled).toHaveBeenCalledTimes(1);
          expect([inProcess.status, inProcess.type]).toEqual([throughSdk.status, throughSdk.type]);
          expect(JSON.parse(inProcess.text), `${name} ${JSON.stringify(args)} at ${revision}`).toEqual(
            JSON.parse(throughSdk.text),
          );
        }
      }
    } finally {
      handled.mockRestore();
    }
  });

  it('a plain call of a tool that streams is answered in process with the SSE stream the SDK’s transport sends', async () => {
    const handled = vi.spyOn(WebStandardStreamableHTTPServerTransport.prototype, 'handleRequest');
    const calls: ToolCall[] = [...STREAMING_TOOL_CALLS, ['no_such_tool', {}]];
    /** Status, the headers that shape a stream, and its events (keepalive comments aside). */
    const shape = (answer: Awaited<ReturnType<typeof call>>) => ({
      status: answer.status,
      headers: answer.headers,
      events: sseEvents(answer.text),
    });
    try {
      for (const revision of ['2025-03-26', '2025-06-18', '2025-11-25']) {
        for (const [name, args] of calls) {
          handled.mockClear();
          const inProcess = shape(await call(name, args, { revision }));
          expect(handled).not.toHaveBeenCalled();
          const throughSdk = shape(
            await call(name, args, { revision, meta: { 'io.modelcontextprotocol/x': 1 } }),
          );
          expect(handled).toHaveBeenCalledTimes(1);
          expect(inProcess.events.length).toBe(1);
          expect(inProcess, `${name} ${JSON.stringify(args)} at ${revision}`).toEqual(throughSdk);
        }
      }
    } finally {
      handled.mockRestore();
    }
  });

  it('a plain speak call streams its progress and then its answer, as through the SDK’s transport', async () => {
    const handled = vi.spyOn(WebStandardStreamableHTTPServerTransport.prototype, 'handleRequest');
    const kinds = async (meta: Record<string, unknown>) => {
      const answer = await call('speak', { text: 'Progress, then the answer.', fresh: true }, { meta });
      expect(answer.status).toBe(200);
      const messages = answer.text
        .split('\n\n')
        .filter((event) => event.startsWith('event: message\n'))
        .map(
          (event) =>
            JSON.parse(event.split('\n')[1]!.slice('data: '.length)) as { method?: string; id?: number },
        );
      return messages.map((message) => message.method ?? `answer ${message.id}`);
    };
    try {
      const inProcess = await kinds({ progressToken: 'p' });
      expect(handled).not.toHaveBeenCalled();
      const throughSdk = await kinds({ progressToken: 'p', 'io.modelcontextprotocol/x': 1 });
      expect(handled).toHaveBeenCalledTimes(1);
      expect(inProcess.at(-1)).toBe('answer 3');
      expect(inProcess).toContain('notifications/progress');
      expect(new Set(inProcess)).toEqual(new Set(throughSdk));
    } finally {
      handled.mockRestore();
    }
  });

  it('speak still streams (SSE), so progress and log messages can reach the client', async () => {
    const answer = await call('speak', { text: 'Streamed, as before.' });
    expect(answer.status).toBe(200);
    expect(answer.type).toMatch(/^text\/event-stream/);
    expect(answer.text).toContain('"id":3');
  });
});

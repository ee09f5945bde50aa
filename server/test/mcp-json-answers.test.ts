import { LATEST_PROTOCOL_VERSION } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './support/server.js';

/**
 * A 2025 client's call of a quick tool that sends nothing on the way (get_settings, list_voices, …) is answered
 * with one JSON body; a call that may send progress or log messages (speak) still streams as SSE.
 */
describe('2025 calls of quick tools are answered with JSON', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server.close());

  async function call(name: string, args: Record<string, unknown>) {
    const response = await fetch(`${server.url}/mcp`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${server.keys.alice}`,
        accept: 'application/json, text/event-stream',
        'content-type': 'application/json',
        'mcp-protocol-version': LATEST_PROTOCOL_VERSION,
      },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 3,
        method: 'tools/call',
        params: { name, arguments: args },
      }),
    });
    return {
      status: response.status,
      type: response.headers.get('content-type'),
      text: await response.text(),
    };
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

  it('speak still streams (SSE), so progress and log messages can reach the client', async () => {
    const answer = await call('speak', { text: 'Streamed, as before.' });
    expect(answer.status).toBe(200);
    expect(answer.type).toMatch(/^text\/event-stream/);
    expect(answer.text).toContain('"id":3');
  });
});

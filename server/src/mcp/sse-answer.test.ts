import { McpServer, type JSONRPCRequest } from '@modelcontextprotocol/server';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { streamInProcess } from './sse-answer.js';

const AUTH = { token: '', clientId: 'alice', scopes: [] };

/**
 * A server with tools that answer at once, report progress, log, or wait until they are aborted. `signals` gets
 * the signal of each echo call.
 */
function server(onAbort?: (reason: unknown) => void, signals: AbortSignal[] = []) {
  const mcp = new McpServer({ name: 't', version: '1' }, { capabilities: { tools: {}, logging: {} } });
  mcp.registerTool('echo', { inputSchema: z.object({ text: z.string() }) }, async ({ text }, ctx) => {
    signals.push(ctx.mcpReq.signal);
    return { content: [{ type: 'text', text }] };
  });
  mcp.registerTool('chatty', { inputSchema: z.object({}) }, async (_args, ctx) => {
    const token = ctx.mcpReq._meta?.progressToken;
    if (token !== undefined)
      await ctx.mcpReq.notify({
        method: 'notifications/progress',
        params: { progressToken: token, progress: 1 },
      });
    await ctx.mcpReq.log('info', 'on the way', 'test');
    // Not about this call: no place on its stream.
    await mcp.server.notification({ method: 'notifications/tools/list_changed' });
    return { content: [{ type: 'text', text: 'done' }] };
  });
  mcp.registerTool('waits', { inputSchema: z.object({}) }, async (_args, ctx) => {
    const { signal } = ctx.mcpReq;
    // A hang-up may come before the handler runs: its signal is then aborted already.
    if (!signal.aborted) await new Promise((resolve) => signal.addEventListener('abort', resolve));
    onAbort?.(signal.reason);
    return { content: [{ type: 'text', text: 'aborted' }] };
  });
  return mcp;
}

function call(
  id: number,
  name: string,
  args: Record<string, unknown>,
  meta?: { progressToken: string },
): JSONRPCRequest {
  return {
    jsonrpc: '2.0',
    id,
    method: 'tools/call',
    params: { name, arguments: args, ...(meta && { _meta: meta }) },
  };
}

/** Everything written until the body ends. */
async function text(body: NodeJS.ReadableStream): Promise<string> {
  let all = '';
  for await (const part of body) all += String(part);
  return all;
}

function events(sse: string): unknown[] {
  return sse
    .split('\n\n')
    .filter((event) => event.startsWith('event: message\ndata: '))
    .map((event) => JSON.parse(event.slice('event: message\ndata: '.length)) as unknown);
}

describe('streamInProcess: one call answered as an SSE stream', () => {
  it('writes the answer as one event and ends the stream', async () => {
    const answer = await streamInProcess(server(), call(7, 'echo', { text: 'hi' }), AUTH, 60_000);
    const sse = await text(answer.body);
    expect(sse).toBe(`event: message\ndata: ${JSON.stringify(events(sse)[0])}\n\n`);
    expect(events(sse)).toEqual([
      { jsonrpc: '2.0', id: 7, result: { content: [{ type: 'text', text: 'hi' }] } },
    ]);
  });

  it('writes what the call sends on its way (progress, log messages) before its answer, and nothing else', async () => {
    const mcp = server();
    const answer = await streamInProcess(mcp, call(8, 'chatty', {}, { progressToken: 'p' }), AUTH, 60_000);
    const sent = events(await text(answer.body)) as { method?: string; id?: number }[];
    expect(sent.map((message) => message.method ?? `answer ${message.id}`)).toEqual([
      'notifications/progress',
      'notifications/message',
      'answer 8',
    ]);
  });

  it('answers a protocol error (an unknown tool) on the stream too', async () => {
    const answer = await streamInProcess(server(), call(9, 'nope', {}), AUTH, 60_000);
    const [message] = events(await text(answer.body)) as { id: number; result?: { isError: boolean } }[];
    expect(message).toMatchObject({ id: 9 });
  });

  it('sends a keepalive comment while the call is silent', async () => {
    const answer = await streamInProcess(server(), call(10, 'waits', {}), AUTH, 5);
    let seen = '';
    await new Promise<void>((resolve) =>
      answer.body.on('data', (part: Buffer) => {
        seen += String(part);
        if (seen.includes(': keepalive\n\n')) resolve();
      }),
    );
    answer.hangUp();
    expect(seen.startsWith(': keepalive\n\n')).toBe(true);
  });

  it('answering ends the exchange without aborting the call (its signal stays quiet)', async () => {
    const signals: AbortSignal[] = [];
    const answer = await streamInProcess(
      server(undefined, signals),
      call(12, 'echo', { text: 'hi' }),
      AUTH,
      60_000,
    );
    expect(events(await text(answer.body))).toHaveLength(1);
    // The SDK's own clean-up after the answer has run by now.
    await new Promise((resolve) => setImmediate(resolve));
    expect(signals.map((signal) => signal.aborted)).toEqual([false]);
  });

  it('a hang-up aborts the running handler and ends the stream without an answer', async () => {
    const aborted = Promise.withResolvers<unknown>();
    const answer = await streamInProcess(server(aborted.resolve), call(11, 'waits', {}), AUTH, 60_000);
    const body = text(answer.body);
    answer.hangUp();
    expect(await aborted.promise).toBeDefined();
    expect(await body).toBe('');
  });
});

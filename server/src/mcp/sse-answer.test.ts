import { McpServer, type JSONRPCRequest } from '@modelcontextprotocol/server';
import { describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { SseAnswerBody, streamInProcess } from './sse-answer.js';

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
    const sse = await text(answer.body.readable());
    expect(sse).toBe(`event: message\ndata: ${JSON.stringify(events(sse)[0])}\n\n`);
    expect(events(sse)).toEqual([
      { jsonrpc: '2.0', id: 7, result: { content: [{ type: 'text', text: 'hi' }] } },
    ]);
  });

  it('writes what the call sends on its way (progress, log messages) before its answer, and nothing else', async () => {
    const mcp = server();
    const answer = await streamInProcess(mcp, call(8, 'chatty', {}, { progressToken: 'p' }), AUTH, 60_000);
    const sent = events(await text(answer.body.readable())) as { method?: string; id?: number }[];
    expect(sent.map((message) => message.method ?? `answer ${message.id}`)).toEqual([
      'notifications/progress',
      'notifications/message',
      'answer 8',
    ]);
  });

  it('answers a protocol error (an unknown tool) on the stream too', async () => {
    const answer = await streamInProcess(server(), call(9, 'nope', {}), AUTH, 60_000);
    const [message] = events(await text(answer.body.readable())) as {
      id: number;
      result?: { isError: boolean };
    }[];
    expect(message).toMatchObject({ id: 9 });
  });

  it('sends a keepalive comment while the call is silent', async () => {
    const answer = await streamInProcess(server(), call(10, 'waits', {}), AUTH, 5);
    let seen = '';
    await new Promise<void>((resolve) =>
      answer.body.readable().on('data', (part: Buffer) => {
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
    expect(events(await text(answer.body.readable()))).toHaveLength(1);
    // The SDK's own clean-up after the answer has run by now.
    await new Promise((resolve) => setImmediate(resolve));
    expect(signals.map((signal) => signal.aborted)).toEqual([false]);
  });

  it('a hang-up aborts the running handler and ends the stream without an answer', async () => {
    const aborted = Promise.withResolvers<unknown>();
    const answer = await streamInProcess(server(aborted.resolve), call(11, 'waits', {}), AUTH, 60_000);
    const body = text(answer.body.readable());
    answer.hangUp();
    expect(await aborted.promise).toBeDefined();
    expect(await body).toBe('');
  });
});

describe('SseAnswerBody: an SSE answer written straight to its sink', () => {
  /** A sink like the HTTP response: what is written, in order, and whether it ended. */
  function sink() {
    const written: string[] = [];
    let ended = 0;
    return {
      written,
      ended: () => ended,
      write: (text: string) => void written.push(text),
      end: () => void (ended += 1),
    };
  }
  const progress = {
    jsonrpc: '2.0',
    method: 'notifications/progress',
    params: { progressToken: 'p', progress: 1 },
  };
  const answer = { jsonrpc: '2.0', id: 3, result: { content: [] } };

  it('keeps what was written before it is attached, in order, then writes the rest as it comes', () => {
    const body = new SseAnswerBody(60_000);
    body.write(progress as never);
    const response = sink();
    body.attach(response);
    expect(response.written).toEqual([`event: message\ndata: ${JSON.stringify(progress)}\n\n`]);
    body.write(answer as never);
    expect(events(response.written.join(''))).toEqual([progress, answer]);
    // The answer ends the body, once; nothing is written after it.
    expect(response.ended()).toBe(1);
    body.write(progress as never);
    body.end();
    expect(response.written).toHaveLength(2);
    expect(response.ended()).toBe(1);
  });

  it('ends its sink when attached after the answer, and is sent only once', () => {
    const body = new SseAnswerBody(60_000);
    body.write(answer as never);
    const response = sink();
    body.attach(response);
    expect(events(response.written.join(''))).toEqual([answer]);
    expect(response.ended()).toBe(1);
    expect(() => body.attach(sink())).toThrow('sent once');
  });

  it('writes keepalives to the sink while silent, and stops them when it ends', () => {
    vi.useFakeTimers();
    try {
      const body = new SseAnswerBody(5);
      const response = sink();
      body.attach(response);
      vi.advanceTimersByTime(11);
      expect(response.written).toEqual([': keepalive\n\n', ': keepalive\n\n']);
      body.end();
      vi.advanceTimersByTime(100);
      expect(response.written).toHaveLength(2);
      expect(response.ended()).toBe(1);
    } finally {
      vi.useRealTimers();
    }
  });
});

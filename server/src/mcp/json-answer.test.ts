import { McpServer } from '@modelcontextprotocol/server';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { answerInProcess } from './json-answer.js';

const AUTH = { token: '', clientId: 'alice', scopes: [] };

describe('answerInProcess: one quick call answered with its JSON-RPC message', () => {
  /** A server whose echo tool keeps each call's signal in `signals`. */
  function server(signals: AbortSignal[]) {
    const mcp = new McpServer({ name: 't', version: '1' }, { capabilities: { tools: {} } });
    mcp.registerTool('echo', { inputSchema: z.object({ text: z.string() }) }, async ({ text }, ctx) => {
      signals.push(ctx.mcpReq.signal);
      return { content: [{ type: 'text', text }] };
    });
    return mcp;
  }

  it('answers with the message itself, and answering does not abort the call', async () => {
    const signals: AbortSignal[] = [];
    const answer = await answerInProcess(
      server(signals),
      { jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'echo', arguments: { text: 'hi' } } },
      AUTH,
    );
    expect(answer).toEqual({ jsonrpc: '2.0', id: 3, result: { content: [{ type: 'text', text: 'hi' }] } });
    await new Promise((resolve) => setImmediate(resolve));
    expect(signals.map((signal) => signal.aborted)).toEqual([false]);
  });

  it('answers a protocol error (an unknown tool) the same way', async () => {
    const answer = await answerInProcess(
      server([]),
      { jsonrpc: '2.0', id: 4, method: 'tools/call', params: { name: 'nope', arguments: {} } },
      AUTH,
    );
    expect(answer).toMatchObject({ jsonrpc: '2.0', id: 4 });
  });
});

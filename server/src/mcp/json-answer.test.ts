import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
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

  it('leaves nothing behind: each answered server is garbage collected', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    let collected = 0;
    const registry = new FinalizationRegistry(() => collected++);
    const calls = 200;
    // Each server lives in its own function's frame, which has returned by the time the next call starts.
    const answerOnce = async (id: number) => {
      const mcp = server([]);
      registry.register(mcp, id);
      await answerInProcess(
        mcp,
        { jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'echo', arguments: { text: 'x' } } },
        AUTH,
      );
    };
    for (let id = 0; id < calls; id++) await answerOnce(id);
    // Finalizers run on later turns after a collection: a bounded number of rounds, each a collection and a turn.
    for (let round = 0; round < 50 && collected < calls; round++) {
      gc();
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(collected).toBe(calls);
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

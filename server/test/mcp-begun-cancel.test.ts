// A speak call begins its speech as soon as it has been read (a 2025 call by the route, a 2026-07-28 one when the
// SDK asks for its server), then waits while newer calls arrive (BehindNewCalls) before its handler takes over and
// registers for cancellation itself. A cancellation in that window (notifications/cancelled naming the call, or
// the client hanging up) must still stop the speech: it is paying ElevenLabs. The test stops BehindNewCalls'
// clock, so a call stays in that window until the test moves it on.
import type { Standin } from '@earshot/elevenlabs-standin';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mcpPostHeaders, MODERN_REVISION } from './support/mcp.js';
import { connectPlayer } from './support/player.js';
import { startWithStandin, type TestServer } from './support/server.js';

const UPSTREAM_KEY = 'el-test-key-begun';
const TEXT = 'This speech is cancelled before its call has been handed to the MCP server.';

describe('cancelling between a speech beginning and its handler taking over', () => {
  let standin: Standin;
  let server: TestServer;
  let stop: () => Promise<void>;
  /** BehindNewCalls' clock: while it stands still, a begun call never gets its turn. */
  let clock = 0;

  beforeAll(async () => {
    ({ standin, server, close: stop } = await startWithStandin(UPSTREAM_KEY, { mcpTurnClock: () => clock }));
  });
  afterAll(() => stop());

  const post = (body: object, headers: Record<string, string> = {}, signal?: AbortSignal) =>
    fetch(`${server.url}/mcp`, {
      method: 'POST',
      headers: mcpPostHeaders(server.keys.alice!, headers),
      body: JSON.stringify(body),
      ...(signal && { signal }),
    });

  it('notifications/cancelled stops the upstream request and the players; the call then answers "stopped"', async () => {
    standin.setPacing({ firstByteLatencyMs: 0, realtimeFactor: Infinity, chunkIntervalMs: 0 });
    // The upstream stream stalls after its first chunks: it cannot end by itself while the test runs.
    standin.injectFault({ kind: 'stall', afterBytes: 8192, ms: 600_000, path: /text-to-speech/ });
    const player = await connectPlayer(server.url, server.keys.alice!);
    const requestsBefore = standin.requests.length;
    const answer = post({
      jsonrpc: '2.0',
      id: 41,
      method: 'tools/call',
      params: { name: 'speak', arguments: { text: TEXT, fresh: true } },
    });
    // The speech began and plays; the call itself is held (the clock stands still), its answer not begun.
    const start = await player.waitFor('speech.start', (m) => m.text === TEXT);
    let answered = false;
    void answer.then(() => (answered = true));
    const upstream = standin.requests.slice(requestsBefore).find((r) => r.path.includes('/text-to-speech/'))!;
    expect(upstream.status).toBeUndefined();

    const cancelled = await post({
      jsonrpc: '2.0',
      method: 'notifications/cancelled',
      params: { requestId: 41, reason: 'the user changed their mind' },
    });
    expect(cancelled.status).toBe(202);
    // Generation stopped: Earshot closed its request to ElevenLabs (the stalled stream ends only when closed),
    // and the players were told, all while the call was still waiting for its turn.
    await player.waitFor('speech.stopped', (m) => m.id === start.id);
    await expect.poll(() => upstream.status, { timeout: 10_000 }).toBeDefined();
    expect(answered).toBe(false);

    // Its turn comes: the handler finds the speech stopped and says so.
    clock += 60_000;
    const response = await answer;
    expect(response.status).toBe(200);
    expect(await response.text()).toContain(`"status":"stopped"`);
    await player.close();
  });

  it('a 2026-07-28 call whose client hangs up stops the upstream request and the players', async () => {
    standin.setPacing({ firstByteLatencyMs: 0, realtimeFactor: Infinity, chunkIntervalMs: 0 });
    standin.injectFault({ kind: 'stall', afterBytes: 8192, ms: 600_000, path: /text-to-speech/ });
    const player = await connectPlayer(server.url, server.keys.alice!);
    const requestsBefore = standin.requests.length;
    const text = `${TEXT} This one asked by a 2026-07-28 client.`;
    const hangUp = new AbortController();
    // The revision's headers and per-request envelope: the route checks them (the envelope through the SDK's
    // classification), begins the call and serves it in process.
    const answer = post(
      {
        jsonrpc: '2.0',
        id: 42,
        method: 'tools/call',
        params: {
          name: 'speak',
          arguments: { text, fresh: true },
          _meta: {
            'io.modelcontextprotocol/protocolVersion': MODERN_REVISION,
            'io.modelcontextprotocol/clientInfo': { name: 'earshot-test', version: '1.0.0' },
            'io.modelcontextprotocol/clientCapabilities': {},
          },
        },
      },
      { 'mcp-protocol-version': MODERN_REVISION, 'mcp-method': 'tools/call', 'mcp-name': 'speak' },
      hangUp.signal,
    );
    answer.catch(() => undefined);
    const start = await player.waitFor('speech.start', (m) => m.text === text);
    const upstream = standin.requests.slice(requestsBefore).find((r) => r.path.includes('/text-to-speech/'))!;
    expect(upstream.status).toBeUndefined();

    // The 2026-07-28 way to cancel: the client closes its request, while the call still waits for its turn.
    hangUp.abort();
    await expect(answer).rejects.toThrow();
    await player.waitFor('speech.stopped', (m) => m.id === start.id);
    await expect.poll(() => upstream.status, { timeout: 10_000 }).toBeDefined();
    clock += 60_000;
    await player.close();
  });
});

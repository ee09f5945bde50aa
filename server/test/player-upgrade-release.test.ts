// A connected player holds nothing of the HTTP request that opened it: with thousands of players, those
// requests (headers, Node's response, Fastify's request and reply) were a few KB each for nothing.
import type { IncomingMessage } from 'node:http';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { captureLog, LEVEL, type CapturedLog } from './support/log-capture.js';
import { connectPlayer, type TestPlayer } from './support/player.js';
import { within } from './support/raw-http.js';
import { startTestServer, type TestServer } from './support/server.js';

describe('an open player socket', () => {
  let server: TestServer;
  let log: CapturedLog;
  beforeAll(async () => {
    log = captureLog('debug');
    server = await startTestServer({ logger: log.logger });
  });
  afterAll(() => server.close());

  it('lets its upgrade request be garbage collected while it stays connected, and still plays', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    let collected = 0;
    const registry = new FinalizationRegistry(() => collected++);
    const http = server.running.app.server;
    // Registered, not held: the registry keeps no request alive.
    const track = (request: IncomingMessage) => registry.register(request, request.url);
    http.prependListener('upgrade', track);
    const players: TestPlayer[] = [];
    try {
      for (let index = 0; index < 3; index++) {
        const player = await connectPlayer(server.url, server.keys.alice!);
        await player.waitFor('hello');
        players.push(player);
      }
    } finally {
      http.removeListener('upgrade', track);
    }
    // Finalizers run on later turns after a collection: a bounded number of rounds, each a collection and a turn.
    for (let round = 0; round < 50 && collected < players.length; round++) {
      gc();
      await nextTurn();
    }
    expect(collected).toBe(players.length);

    // The players are still served: a message to them all arrives, and a ping is answered.
    server.running.hub.broadcast('alice', { type: 'speech.stopped', id: 'sp_check' });
    for (const player of players)
      await player.waitFor('speech.stopped', (message) => message.id === 'sp_check');
    for (const player of players) await player.close();
  });

  it('still reports a socket error on a released player, with its request id', async () => {
    const player = await connectPlayer(server.url, server.keys.alice!);
    await player.waitFor('hello');
    player.socket.send(JSON.stringify({ type: 'ping', pad: 'x'.repeat(17 * 1024) }));
    const { code } = await within(player.closed, 8_000, 'the player was not closed');
    expect(code).toBe(1009);
    const lines = log.lines().filter((line) => /too large/.test(line.msg ?? ''));
    expect(lines).toHaveLength(1);
    expect(lines[0]!.level).toBe(LEVEL.info);
    expect(lines[0]!.reqId).toEqual(expect.any(String));
  });
});

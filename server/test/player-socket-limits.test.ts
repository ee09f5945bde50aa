// Bad input on the player channel is ordinary: the socket is closed with the right code, one log line says
// why (no stack, no error level, no key), and the server keeps serving.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { captureLog, LEVEL, type CapturedLog } from './support/log-capture.js';
import { connectPlayer, playerProtocols } from './support/player.js';
import { openRaw, within } from './support/raw-http.js';
import { startTestServer, type TestServer } from './support/server.js';

describe('player frames the server will not take', () => {
  let server: TestServer;
  let log: CapturedLog;
  beforeAll(async () => {
    log = captureLog('debug');
    server = await startTestServer({ logger: log.logger });
  });
  afterAll(() => server.close());

  const errorsLogged = () => log.lines().filter((line) => line.level >= LEVEL.error);

  it('closes a player that sends a frame over 16 KB with 1009, logs one line without a stack, keeps serving', async () => {
    const player = await connectPlayer(server.url, server.keys.alice!);
    await player.waitFor('hello');
    player.socket.send(JSON.stringify({ type: 'ping', pad: 'x'.repeat(17 * 1024) }));
    const { code } = await within(player.closed, 8_000, 'the player was not closed');
    expect(code).toBe(1009);

    const lines = log.lines().filter((line) => /too large/.test(line.msg ?? ''));
    expect(lines).toHaveLength(1);
    expect(lines[0]!.level).toBe(LEVEL.info);
    expect(JSON.stringify(lines[0])).not.toMatch(/stack|\bat [\w.]+ \(/);
    expect(errorsLogged()).toEqual([]);

    const next = await connectPlayer(server.url, server.keys.alice!);
    expect((await next.waitFor('hello')).user).toBe('alice');
    await next.close();
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
  });

  it('closes a player that breaks the WebSocket framing with 1002, as a warning', async () => {
    const connection = await openRaw(server.url);
    connection.write(
      [
        'GET /ws HTTP/1.1',
        `Host: ${new URL(server.url).host}`,
        `Origin: ${server.url}`,
        'Connection: Upgrade',
        'Upgrade: websocket',
        'Sec-WebSocket-Version: 13',
        `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}`,
        `Sec-WebSocket-Protocol: ${playerProtocols(server.keys.bob!).join(', ')}`,
      ].join('\r\n') + '\r\n\r\n',
    );
    expect((await connection.head()).status).toBe(101);
    // A client frame must be masked; this one is not.
    connection.write(Buffer.from([0x81, 0x02, 0x68, 0x69]));
    const sent = await within(connection.closed, 8_000, 'the broken player was not closed');
    // The close frame after the handshake: opcode 8, status 1002 (protocol error).
    const closeFrame = Buffer.from(sent.slice(sent.indexOf('\r\n\r\n') + 4), 'latin1');
    expect(closeFrame.includes(Buffer.from([0x88]))).toBe(true);
    expect(closeFrame.readUInt16BE(closeFrame.indexOf(0x88) + 2)).toBe(1002);
    const lines = log.lines().filter((line) => /malformed frame/.test(line.msg ?? ''));
    expect(lines).toHaveLength(1);
    expect(lines[0]!.level).toBe(LEVEL.warn);
    expect(errorsLogged()).toEqual([]);
  });

  it('never writes a key to the log', () => {
    const text = log.text();
    for (const key of Object.values(server.keys)) {
      expect(text).not.toContain(key);
      expect(text).not.toContain(Buffer.from(key).toString('base64url'));
    }
  });
});

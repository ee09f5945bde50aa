import { connect, type Socket } from 'node:net';
import { parseResponse } from '../http-raw.js';
import { REAL_USER } from '../keys.js';
import { Player } from '../player.js';
import { Tally, type ScenarioSummary } from '../tally.js';
import { sleep, Target } from '../target.js';
import type { SuiteContext } from './context.js';

type SlowKind = 'slow headers /mcp' | 'slow headers /api' | 'slow body /mcp' | 'slow body /api';
const KINDS: readonly SlowKind[] = [
  'slow headers /mcp',
  'slow headers /api',
  'slow body /mcp',
  'slow body /api',
];

interface SlowSocket {
  readonly kind: SlowKind;
  readonly socket: Socket;
  readonly openedAt: number;
  closedAt?: number;
  received: Buffer;
}

/**
 * Slowloris and slow-body clients: headers that arrive a byte at a time and never end, and bodies that
 * promise 1,000 bytes and trickle a few. Half are unauthenticated, as an attacker's would be. While they
 * hold their sockets the real user must still speak (REST and MCP) and connect a player; then each slow
 * socket must be closed by the server within `slowBoundMs`, or it counts as a hang.
 */
export async function runSlowSockets(suite: SuiteContext): Promise<ScenarioSummary> {
  const tally = new Tally('slow-sockets');
  const target = await Target.start({ keys: suite.keys, scanner: suite.scanner, env: suite.slowServerEnv });
  const slow: SlowSocket[] = [];
  let player: Player | undefined;
  let trickle: NodeJS.Timeout | undefined;
  try {
    player = await Player.connect(target.url, suite.keys.byUser[REAL_USER]);
    // The baseline's player count comes from the log: wait for this player's line to reach it.
    await target.untilPlayersLogged(1);
    const warm = await target.realSpeak('Warming up.', 'rest', 30_000);
    if (!warm.ok) throw new Error(`the real user could not speak before the slow sockets: ${warm.detail}`);
    const baseline = target.sample();
    if (!baseline) throw new Error('cannot read /proc for the server process');
    tally.rssBeforeKiB = baseline.rssKiB;
    const players = target.playersConnected();

    for (let i = 0; i < suite.slowSockets; i++) {
      const kind = KINDS[i % KINDS.length]!;
      const auth = i % 2 === 0 ? '' : `Authorization: Bearer ${suite.keys.byUser.mallory}\r\n`;
      slow.push(openSlow(target.port, kind, auth));
      tally.inputs++;
    }
    // One byte per socket per interval keeps every one of them "active" to a per-read idle timer.
    let tick = 0;
    trickle = setInterval(() => {
      tick++;
      for (const s of slow) {
        if (s.closedAt !== undefined) continue;
        s.socket.write(s.kind.startsWith('slow headers') ? String.fromCharCode(97 + (tick % 26)) : ' ');
      }
    }, suite.slowIntervalMs);

    await sleep(suite.slowIntervalMs);
    const open = slow.filter((s) => s.closedAt === undefined).length;
    // The real user, while the slow sockets hold their connections.
    for (const via of ['rest', 'mcp'] as const) {
      const speech = await target.realSpeak(
        `Can you hear me through ${via} while the slow sockets wait?`,
        via,
        10_000,
      );
      target.inspect(
        tally,
        `real user speech (${via}) under slow sockets`,
        'POST',
        via === 'rest' ? '/api/v1/speak' : '/mcp',
        speech.response,
      );
      tally.inputs++;
      tally.note(
        `real user ${via} speech with ${open} slow sockets open: ${speech.ok ? `ok in ${speech.ms} ms` : speech.detail}`,
      );
      if (!speech.ok)
        tally.find(
          'hang',
          `the real user's ${via} speech did not complete while ${open} slow sockets were open: ${speech.detail}`,
        );
    }
    const second = await Player.connect(target.url, suite.keys.byUser[REAL_USER]).catch(
      (error: unknown) => error,
    );
    tally.inputs++;
    if (second instanceof Player) second.close();
    else tally.find('hang', `a new player could not connect while slow sockets were open: ${String(second)}`);

    // Wait for the server to close them, up to the bound (counted from when each was opened).
    const deadline = Math.max(...slow.map((s) => s.openedAt)) + suite.slowBoundMs;
    while (slow.some((s) => s.closedAt === undefined) && performance.now() < deadline) await sleep(100);
    clearInterval(trickle);
    report(tally, slow, suite.slowBoundMs);

    for (const s of slow) s.socket.destroy();
    await target.checkSettled(tally, baseline, players, 10_000);
    tally.rssAfterKiB = target.sample()?.rssKiB ?? null;
    tally.note(
      `server env: ${
        Object.entries(suite.slowServerEnv)
          .map(([k, v]) => `${k}=${v}`)
          .join(' ') || '(none)'
      }; bound ${suite.slowBoundMs} ms`,
    );
  } finally {
    if (trickle) clearInterval(trickle);
    for (const s of slow) s.socket.destroy();
    player?.close();
    await target.stop(tally);
    tally.end();
  }
  return tally.summary();
}

/**
 * The attacker's address: another loopback address than the real user's 127.0.0.1, so the server's per-client
 * socket cap (128) applies to the attacker alone — as on a real network, where they are different hosts.
 */
const ATTACKER_ADDRESS = '127.0.0.2';

function openSlow(port: number, kind: SlowKind, auth: string): SlowSocket {
  const socket = connect({ host: '127.0.0.1', port, localAddress: ATTACKER_ADDRESS });
  const slow: SlowSocket = { kind, socket, openedAt: performance.now(), received: Buffer.alloc(0) };
  const path = kind.endsWith('/mcp')
    ? '/mcp'
    : kind.startsWith('slow body')
      ? '/api/v1/settings'
      : '/api/v1/speak';
  const method = path === '/api/v1/settings' ? 'PUT' : 'POST';
  socket.on('connect', () => {
    if (kind.startsWith('slow headers')) {
      socket.write(`${method} ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n${auth}X-Slow: `);
    } else {
      socket.write(
        `${method} ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n${auth}Content-Type: application/json\r\n` +
          'Accept: application/json, text/event-stream\r\nContent-Length: 1000\r\n\r\n{"jsonrpc"',
      );
    }
  });
  socket.on('data', (data: Buffer) => (slow.received = Buffer.concat([slow.received, data])));
  const closed = () => (slow.closedAt ??= performance.now());
  socket.on('end', closed);
  socket.on('close', closed);
  socket.on('error', closed);
  return slow;
}

function report(tally: Tally, slow: readonly SlowSocket[], boundMs: number): void {
  for (const kind of KINDS) {
    const ofKind = slow.filter((s) => s.kind === kind);
    if (ofKind.length === 0) continue;
    const closed = ofKind.filter((s) => s.closedAt !== undefined);
    const times = closed.map((s) => s.closedAt! - s.openedAt).sort((a, b) => a - b);
    const statuses = new Map<string, number>();
    for (const s of ofKind) {
      const status = parseResponse(s.received)?.status;
      const label = status ? String(status) : s.closedAt !== undefined ? 'closed without answer' : 'open';
      statuses.set(label, (statuses.get(label) ?? 0) + 1);
      tally.status(label);
    }
    const median = times.length > 0 ? `${Math.round(times[Math.floor(times.length / 2)]!)} ms` : '—';
    tally.note(
      `${kind}: ${closed.length}/${ofKind.length} closed by the server within ${boundMs} ms (median ${median}); ` +
        [...statuses].map(([label, n]) => `${label} ×${n}`).join(', '),
    );
    const stillOpen = ofKind.length - closed.length;
    if (stillOpen > 0) {
      tally.find(
        'hang',
        `${kind}: ${stillOpen} of ${ofKind.length} sockets still open after ${boundMs} ms`,
        {},
        stillOpen,
      );
    }
    for (const s of closed) {
      const status = parseResponse(s.received)?.status ?? 0;
      if (status >= 500)
        tally.find('5xx', `${kind} answered ${status}`, {
          response: s.received.toString('latin1').slice(0, 300),
        });
    }
  }
}

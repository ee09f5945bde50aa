import { PLAYER_USER } from '../keys.js';
import type { WsInput, WsRawInput, WsStep } from '../inputs.js';
import type { Rng } from '../prng.js';
import { pickVoice, REQUEST_DEADLINE_MS, type World } from './common.js';
import { speechText, weirdString, weirdValue } from './values.js';

/** A player session: mostly well-formed (so speech reaches it), with odd message orders and endings. */
function sessionInput(rng: Rng, world: World): WsInput {
  const user = PLAYER_USER;
  const valid = rng.chance(0.85);
  const protocols = valid
    ? rng.pick([
        ['earshot.v1', `bearer.{{b64key:${user}}}`],
        [`bearer.{{b64key:${user}}}`, 'earshot.v1'],
        ['earshot.v1', `bearer.{{b64key:${user}}}`, 'chat'],
      ])
    : rng.pick([
        ['earshot.v1'],
        [`bearer.{{b64key:${user}}}`],
        ['earshot.v2', `bearer.{{b64key:${user}}}`],
        ['earshot.v1', `bearer.${Buffer.from('esk_wrong').toString('base64url')}`],
        ['earshot.v1', 'bearer.'],
        ['earshot.v1', `bearer.{{b64key:${user}}}`, `bearer.${Buffer.from('x').toString('base64url')}`],
        [],
      ]);
  const origin = rng.weighted<string | undefined>([
    [12, '{{origin}}'],
    [1, undefined],
    [1, 'http://evil.example'],
    [1, 'http://localhost:1'],
    [0.5, 'null'],
  ]);
  const steps: WsStep[] = [];
  for (let i = 0, n = rng.int(1, 8); i < n; i++) steps.push(step(rng, world));
  steps.push(
    rng.weighted<WsStep>([
      [5, { op: 'close', ...(rng.chance(0.3) ? { code: rng.pick([1000, 1001, 3000, 4999]) } : {}) }],
      [4, { op: 'terminate' }],
    ]),
  );
  return {
    kind: 'ws',
    channel: 'ws',
    label: `ws session${valid ? '' : ' (bad auth)'}`,
    user,
    protocols,
    ...(origin === undefined ? {} : { origin }),
    steps,
    deadlineMs: REQUEST_DEADLINE_MS,
  };
}

function step(rng: Rng, world: World): WsStep {
  return rng.weighted<() => WsStep>([
    [
      4,
      () => ({
        op: 'speak',
        text: speechText(rng).slice(0, 300),
        ...(rng.chance(0.3) ? { voice: pickVoice(rng, world) } : {}),
      }),
    ],
    [
      3,
      () => ({
        op: 'text',
        data: JSON.stringify({
          type: 'state',
          audio: rng.pick(['on', 'off']),
          accept: rng.pick([['audio/pcm'], ['audio/mpeg'], [], ['x/y']]),
        }),
      }),
    ],
    [3, () => ({ op: 'played-last' })],
    [2, () => ({ op: 'ping' })],
    [2, () => ({ op: 'text', data: JSON.stringify({ type: 'stop' }) })],
    [
      2,
      () => ({
        op: 'text',
        data: JSON.stringify({ type: 'played', id: rng.chance(0.5) ? 'sp_nothing' : weirdValue(rng) }),
      }),
    ],
    [2, () => ({ op: 'text', data: JSON.stringify(weirdValue(rng)) })],
    [1, () => ({ op: 'text', data: weirdString(rng).slice(0, 15_000) })],
    [
      1,
      () => ({
        op: 'text',
        data: JSON.stringify({ type: rng.pick(['hello', 'speech.start', '__proto__', 'ping ', 'PING']) }),
      }),
    ],
    [1, () => ({ op: 'bytes-as-text', data: Buffer.from([0x7b, 0xff, 0xfe, 0x7d]) })],
    [1, () => ({ op: 'binary', size: rng.pick([0, 1, 1024]) })],
    [0.7, () => ({ op: 'text', data: 'x'.repeat(rng.pick([16 * 1024 + 1, 100_000])) })],
    [2, () => ({ op: 'wait', ms: rng.int(0, 400) })],
  ])();
}

/** A WebSocket frame; `declaredLength` lets a frame lie about its size. */
export function frame(options: {
  opcode: number;
  payload: Buffer;
  fin?: boolean;
  rsv?: number;
  masked?: boolean;
  declaredLength?: bigint;
  mask?: Buffer;
}): Buffer {
  const { opcode, payload } = options;
  const first = ((options.fin ?? true) ? 0x80 : 0) | ((options.rsv ?? 0) << 4) | (opcode & 0x0f);
  const masked = options.masked ?? true;
  const length = options.declaredLength ?? BigInt(payload.length);
  let head: Buffer;
  if (length < 126n) head = Buffer.from([first, (masked ? 0x80 : 0) | Number(length)]);
  else if (length < 65_536n) {
    head = Buffer.alloc(4);
    head.writeUInt8(first, 0);
    head.writeUInt8((masked ? 0x80 : 0) | 126, 1);
    head.writeUInt16BE(Number(length), 2);
  } else {
    head = Buffer.alloc(10);
    head.writeUInt8(first, 0);
    head.writeUInt8((masked ? 0x80 : 0) | 127, 1);
    head.writeBigUInt64BE(length, 2);
  }
  if (!masked) return Buffer.concat([head, payload]);
  const mask = options.mask ?? Buffer.from([0x12, 0x34, 0x56, 0x78]);
  const body = Buffer.from(payload.map((byte, i) => byte ^ mask[i % 4]!));
  return Buffer.concat([head, mask, body]);
}

function rawFrames(rng: Rng): Buffer[] {
  const text = (value: string, extra: Partial<Parameters<typeof frame>[0]> = {}) =>
    frame({ opcode: 1, payload: Buffer.from(value), ...extra });
  return Array.from({ length: rng.int(0, 4) }, () =>
    rng.weighted<() => Buffer>([
      [3, () => text('{"type":"ping"}')],
      [2, () => rng.bytes(rng.int(1, 64))],
      [1, () => text('{"type":"ping"}', { masked: false })],
      [1, () => text('{"type":"ping"}', { rsv: rng.int(1, 7) })],
      [1, () => frame({ opcode: rng.pick([3, 4, 5, 6, 7, 11, 12, 15]), payload: rng.bytes(4) })],
      [1, () => frame({ opcode: 9, payload: rng.bytes(rng.pick([0, 125, 126, 200])) })],
      [1, () => frame({ opcode: 8, payload: Buffer.from([0x03, 0xe7]) })], // close with reserved code 999
      [1, () => frame({ opcode: 8, payload: Buffer.from([0x03]) })], // close with a 1-byte body
      [1, () => frame({ opcode: 9, payload: Buffer.alloc(0), fin: false })], // fragmented control frame
      [1, () => text('{"type":', { fin: false })],
      [1, () => frame({ opcode: 0, payload: Buffer.from('"stop"}') })], // continuation with nothing to continue
      [1, () => frame({ opcode: 2, payload: rng.bytes(32) })],
      [1, () => frame({ opcode: 1, payload: Buffer.from('{}'), declaredLength: 2n ** 63n - 1n })],
      [1, () => frame({ opcode: 1, payload: Buffer.from('x'), declaredLength: 17_000n })],
    ])(),
  );
}

/** A handshake ws would never send, then frames written byte by byte if the server upgrades. */
function rawInput(rng: Rng): WsRawInput {
  const user = PLAYER_USER;
  const headers: [string, string][] = [];
  const add = (share: number, name: string, valid: string, variants: readonly string[]) => {
    if (rng.chance(share)) headers.push([name, valid]);
    else if (rng.chance(0.7)) headers.push([name, rng.pick(variants)]);
  };
  add(0.85, 'Upgrade', 'websocket', ['WebSocket', 'h2c', '', 'websocket, h2c']);
  add(0.85, 'Connection', 'Upgrade', ['upgrade, keep-alive', 'keep-alive', 'close', '']);
  add(0.85, 'Sec-WebSocket-Version', '13', ['8', '99', '', '13, 8', 'abc']);
  add(0.85, 'Sec-WebSocket-Key', rng.bytes(16).toString('base64'), ['', 'short', 'x'.repeat(200), '!!!!']);
  add(0.8, 'Sec-WebSocket-Protocol', `earshot.v1, bearer.{{b64key:${user}}}`, [
    'earshot.v1',
    `earshot.v1, bearer.{{key:${user}}}`,
    'earshot.v1, bearer.a+b/c==',
    'earshot.v1, bearer.',
    'earshot.v1,,,,',
    `${'p,'.repeat(2000)}earshot.v1`,
    'earshot.v1, bearer.' + 'A'.repeat(12_000),
    'earshot.v1; bearer.x',
    'éarshot.v1',
  ]);
  add(0.8, 'Origin', '{{origin}}', [
    'http://evil.example',
    'null',
    '',
    '{{origin}}.evil.example',
    'http://127.0.0.1',
  ]);
  if (rng.chance(0.1)) headers.push(['Host', rng.pick(['evil.example', '', 'localhost'])]);
  if (rng.chance(0.05))
    headers.push([
      'Sec-WebSocket-Extensions',
      rng.pick(['permessage-deflate', 'permessage-deflate; client_max_window_bits=1', 'x-unknown']),
    ]);
  const path = rng.weighted<string>([
    [10, '/ws'],
    [
      1,
      rng.pick([
        '/ws/',
        '/WS',
        '/ws?x=1',
        '/%77s',
        '/ws/../ws',
        '//ws',
        '/ws%00',
        '/mcp',
        '/api/v1/settings',
      ]),
    ],
  ]);
  return {
    kind: 'ws-raw',
    channel: 'ws',
    label: 'ws raw handshake',
    path,
    headers,
    frames: rawFrames(rng),
    deadlineMs: REQUEST_DEADLINE_MS,
  };
}

export function wsInput(rng: Rng, world: World): WsInput | WsRawInput {
  return rng.chance(0.7) ? sessionInput(rng, world) : rawInput(rng);
}

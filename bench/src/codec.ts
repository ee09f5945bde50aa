/**
 * What Opus on the player channel changes, measured at players (raw WebSocket clients) of a real server fed by
 * the paced ElevenLabs stand-in: audio bytes per second of speech per player, and time from the `speak` call to
 * the first audio frame, with ElevenLabs asked for pcm_24000 (before) and opus_48000_32 (now), plus a player
 * that takes only PCM (decoded once on the server). Also the codec's CPU per second of audio. Prints a table and
 * writes JSON. A measurement, not a test.
 *
 *   npm run build && node bench/dist/codec.js [--rounds 10] [--first-byte-ms 300] [--rtf 2]
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startStandin } from '@earshot/elevenlabs-standin';
import { OggOpusDecoder, OggOpusEncoder } from '@earshot/flite';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { createLogger, ElevenLabsEngine, generateApiKey, loadConfig, sha256Hex, startEarshot } from 'earshot';
import WebSocket from 'ws';

const { values: args } = parseArgs({
  options: {
    rounds: { type: 'string', default: '10' },
    'first-byte-ms': { type: 'string', default: '300' },
    rtf: { type: 'string', default: '2' },
    out: { type: 'string', default: 'bench/results/codec.json' },
  },
});
const ROUNDS = Number(args.rounds);
const VOICE_ID = '21m00Tcm4TlvDq8ikWAM';
const UPSTREAM_KEY = 'bench-upstream-key';
const TEXTS = [
  'The deployment finished and every health check is green. I will watch the error rate for ten minutes.',
  'Three files changed in the pull request. The tests pass, and the reviewer asked for one small rename.',
];

interface Player {
  readonly socket: WebSocket;
  /** Per speech: when its first audio frame came, its bytes, its duration. */
  readonly speeches: Map<string, { firstFrameAt: number | null; bytes: number; durationMs: number | null }>;
  /** Resolves at the next speech.end. */
  nextEnd(): Promise<string>;
}

async function openPlayer(url: string, key: string, accept?: string[]): Promise<Player> {
  const socket = new WebSocket(
    `${url.replace('http', 'ws')}/ws`,
    ['earshot.v1', `bearer.${Buffer.from(key).toString('base64url')}`],
    { origin: url },
  );
  const speeches: Player['speeches'] = new Map();
  let current: string | null = null;
  let ended: ((id: string) => void) | undefined;
  let ready: (() => void) | undefined;
  socket.on('message', (data, isBinary) => {
    if (isBinary) {
      const speech = current ? speeches.get(current) : undefined;
      if (!speech) return;
      speech.firstFrameAt ??= performance.now();
      speech.bytes += (data as Buffer).length;
      return;
    }
    const message = JSON.parse((data as Buffer).toString()) as {
      type: string;
      id?: string;
      durationMs?: number;
    };
    if (message.type === 'pong') ready?.();
    if (message.type === 'speech.start') {
      current = message.id!;
      speeches.set(current, { firstFrameAt: null, bytes: 0, durationMs: null });
    }
    if (message.type === 'speech.end') {
      speeches.get(message.id!)!.durationMs = message.durationMs!;
      current = null;
      ended?.(message.id!);
    }
  });
  await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
  if (accept) {
    // The state is in force once a ping sent after it is answered (one ordered socket).
    const pong = new Promise<void>((resolve) => (ready = resolve));
    socket.send(JSON.stringify({ type: 'state', accept }));
    socket.send(JSON.stringify({ type: 'ping' }));
    await pong;
  }
  return { socket, speeches, nextEnd: () => new Promise((resolve) => (ended = resolve)) };
}

async function openMcp(url: string, key: string): Promise<Client> {
  const client = new Client({ name: 'earshot-bench-codec', version: '1.0.0' });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(`${url}/mcp`), {
      requestInit: { headers: { Authorization: `Bearer ${key}` } },
    }),
  );
  return client;
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** A direct client of the (stand-in) API: ms from the request to the first body chunk, for the same format. */
async function direct(standinUrl: string, outputFormat: string, text: string): Promise<number> {
  const started = performance.now();
  const response = await fetch(
    `${standinUrl}/v1/text-to-speech/${VOICE_ID}/stream/with-timestamps?output_format=${outputFormat}`,
    {
      method: 'POST',
      headers: { 'xi-api-key': UPSTREAM_KEY, 'content-type': 'application/json' },
      body: JSON.stringify({ text, model_id: 'eleven_flash_v2_5' }),
    },
  );
  const reader = response.body!.getReader();
  await reader.read();
  const at = performance.now();
  while (!(await reader.read()).done) {
    /* drain */
  }
  return at - started;
}

interface Row {
  path: string;
  speeches: number;
  kbitPerSecond: number;
  firstAudioP50: number;
  firstAudioP95: number;
  /** The same for a direct API client of that format, in the same run: what the upstream itself takes. */
  directP50: number;
}

/** Runs ROUNDS speeches on a fresh server whose engine asks ElevenLabs for `outputFormat`. */
async function run(
  standinUrl: string,
  outputFormat: 'pcm_24000' | 'opus_48000_32',
  players: { label: string; accept?: string[] }[],
): Promise<Row[]> {
  const key = generateApiKey();
  const dataDir = await mkdtemp(join(tmpdir(), 'earshot-bench-codec-'));
  const config = loadConfig({
    HOST: '127.0.0.1',
    PORT: '0',
    EARSHOT_DATA_DIR: dataDir,
    EARSHOT_API_KEYS: `bench:${sha256Hex(key)}`,
  });
  const earshot = await startEarshot(config, {
    logger: createLogger('warn', { destination: 2 }),
    engine: new ElevenLabsEngine({ apiKey: UPSTREAM_KEY, baseUrl: standinUrl, maxRetries: 0, outputFormat }),
  });
  const open = await Promise.all(players.map((p) => openPlayer(earshot.url, key, p.accept)));
  const client = await openMcp(earshot.url, key);
  const started = new Map<string, number>();
  const directTimes: number[] = [];
  // Warm-up speech (JIT, connections), then the measured ones; a distinct text each time (no cache hits).
  for (let round = -1; round < ROUNDS; round++) {
    const ends = open.map((player) => player.nextEnd());
    const at = performance.now();
    const text = `${TEXTS[Math.max(0, round) % TEXTS.length]} Round ${round + 2}.`;
    const result = (await client.callTool({ name: 'speak', arguments: { text, voice: VOICE_ID } }))
      .structuredContent as { id: string };
    await Promise.all(ends);
    if (round >= 0) started.set(result.id, at);
    if (round >= 0) directTimes.push(await direct(standinUrl, outputFormat, `${text} Directly.`));
  }
  const rows = players.map((p, index) => {
    const speeches = [...open[index]!.speeches]
      .filter(([id]) => started.has(id))
      .map(([id, s]) => ({ id, ...s }));
    const bytes = speeches.reduce((sum, s) => sum + s.bytes, 0);
    const seconds = speeches.reduce((sum, s) => sum + (s.durationMs ?? 0), 0) / 1000;
    const firstAudio = speeches.map((s) => s.firstFrameAt! - started.get(s.id)!);
    return {
      path: `${outputFormat} → ${p.label}`,
      speeches: speeches.length,
      kbitPerSecond: (bytes * 8) / seconds / 1000,
      firstAudioP50: percentile(firstAudio, 50),
      firstAudioP95: percentile(firstAudio, 95),
      directP50: percentile(directTimes, 50),
    };
  });
  for (const player of open) player.socket.close();
  await client.close();
  await earshot.shutdown();
  await rm(dataDir, { recursive: true, force: true });
  return rows;
}

/** CPU per second of audio of what the server runs per speech and format: the PCM decoder and PCM→Opus. */
function codecCost(): { decodeMsPerSecond: number; encodeMsPerSecond: number } {
  const seconds = 20;
  const pcm = new Int16Array(24_000 * seconds);
  for (let i = 0; i < pcm.length; i++) {
    pcm[i] = Math.round(5000 * Math.sin((2 * Math.PI * 190 * i) / 24_000) * (1 + Math.sin(i / 2000)));
  }
  const bytes = new Uint8Array(pcm.buffer);
  let start = performance.now();
  const encoder = new OggOpusEncoder({ sampleRate: 24_000, bitrate: 32_000 });
  const pages = [...encoder.push(bytes), ...encoder.end()];
  const encodeMs = performance.now() - start;
  start = performance.now();
  const decoder = new OggOpusDecoder(24_000);
  for (const page of pages) decoder.push(page);
  decoder.close();
  const decodeMs = performance.now() - start;
  return { decodeMsPerSecond: decodeMs / seconds, encodeMsPerSecond: encodeMs / seconds };
}

async function main(): Promise<void> {
  const pacing = { firstByteLatencyMs: Number(args['first-byte-ms']), realtimeFactor: Number(args.rtf) };
  const standin = await startStandin({ apiKeys: [UPSTREAM_KEY], pacing });
  const before = await run(standin.url, 'pcm_24000', [
    { label: 'player (PCM as sent)', accept: ['audio/pcm'] },
  ]);
  // Alone first: everything here shares one event loop, so a PCM player's decoding would delay the timestamps of
  // the Opus player's frames too (the server sends to the Opus player first).
  const alone = await run(standin.url, 'opus_48000_32', [{ label: 'player (Ogg Opus, default), alone' }]);
  const after = await run(standin.url, 'opus_48000_32', [
    { label: 'player (Ogg Opus, default)' },
    { label: 'PCM-only player (decoded once on the server)', accept: ['audio/pcm'] },
  ]);
  await standin.close();
  codecCost(); // warm the wasm up
  const cost = codecCost();
  const rows = [...before, ...alone, ...after];
  console.log(
    [
      `Opus on the player channel — stand-in paced at ${pacing.firstByteLatencyMs} ms first byte, ${pacing.realtimeFactor}× real time; ${ROUNDS} speeches each`,
      '',
      '| upstream format → player | speeches | kbit/s of speech per player | first audio p50 ms | p95 ms | direct API client p50 ms | Earshot adds (p50) |',
      '|---|---:|---:|---:|---:|---:|---:|',
      ...rows.map(
        (r) =>
          `| ${r.path} | ${r.speeches} | ${r.kbitPerSecond.toFixed(1)} | ${r.firstAudioP50.toFixed(1)} | ${r.firstAudioP95.toFixed(1)} | ${r.directP50.toFixed(1)} | ${(r.firstAudioP50 - r.directP50).toFixed(1)} |`,
      ),
      '',
      `Server codec CPU per second of speech (24 kHz mono, libopus wasm): decode to PCM ${cost.decodeMsPerSecond.toFixed(2)} ms, encode from PCM ${cost.encodeMsPerSecond.toFixed(2)} ms — once per speech and format, not per player.`,
    ].join('\n'),
  );
  await mkdir(join(args.out, '..'), { recursive: true });
  await writeFile(
    args.out,
    JSON.stringify(
      { date: new Date().toISOString(), node: process.version, pacing, rounds: ROUNDS, rows, cost },
      null,
      2,
    ),
  );
  console.log(`\nJSON: ${args.out}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});

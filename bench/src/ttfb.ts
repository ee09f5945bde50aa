/**
 * Time to first audio byte: at an Earshot player (MCP `speak` → WebSocket frame) versus at a direct client
 * of the ElevenLabs stand-in (HTTP request → first body chunk), at 1 and 20 concurrent speakers.
 * Prints a table and writes JSON. A measurement, not a test: nothing here passes or fails.
 *
 *   npm run bench                     # defaults
 *   npm run bench -- --rounds 20 --first-byte-ms 300 --rtf 2
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startStandin } from '@earshot/elevenlabs-standin';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { createLogger, ElevenLabsEngine, generateApiKey, loadConfig, sha256Hex, startEarshot } from 'earshot';
import WebSocket from 'ws';

const { values: args } = parseArgs({
  options: {
    rounds: { type: 'string', default: '10' },
    'first-byte-ms': { type: 'string', default: '300' },
    rtf: { type: 'string', default: '2' },
    out: { type: 'string', default: 'bench/results/ttfb.json' },
  },
});
const ROUNDS = Number(args.rounds);
const CONCURRENCY = [1, 20];
const TEXT =
  'The deployment finished and every health check is green. I will watch the error rate for ten minutes.';
const VOICE_ID = '21m00Tcm4TlvDq8ikWAM';
const UPSTREAM_KEY = 'bench-upstream-key';

interface Player {
  socket: WebSocket;
  /** Resolves at the next binary frame. */
  nextFrame(): Promise<number>;
}

async function openPlayer(url: string, key: string): Promise<Player> {
  const socket = new WebSocket(
    `${url.replace('http', 'ws')}/ws`,
    ['earshot.v1', `bearer.${Buffer.from(key).toString('base64url')}`],
    {
      origin: url,
    },
  );
  let waiting: ((at: number) => void) | undefined;
  socket.on('message', (_data, isBinary) => {
    if (isBinary && waiting) {
      const resolve = waiting;
      waiting = undefined;
      resolve(performance.now());
    }
  });
  await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
  return { socket, nextFrame: () => new Promise((resolve) => (waiting = resolve)) };
}

async function openMcp(url: string, key: string): Promise<Client> {
  const client = new Client({ name: 'earshot-bench', version: '1.0.0' });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(`${url}/mcp`), {
      requestInit: { headers: { Authorization: `Bearer ${key}` } },
    }),
  );
  return client;
}

/** One speaker through Earshot: ms from calling speak to the first audio frame at the player. */
async function viaEarshot(client: Client, player: Player): Promise<number> {
  const frame = player.nextFrame();
  const started = performance.now();
  const call = client.callTool({ name: 'speak', arguments: { text: TEXT, voice: VOICE_ID } });
  const at = await frame;
  await call;
  return at - started;
}

/** One direct client of the (stand-in) API: ms from the request to the first body chunk. */
async function direct(standinUrl: string): Promise<number> {
  const started = performance.now();
  const response = await fetch(`${standinUrl}/v1/text-to-speech/${VOICE_ID}/stream?output_format=pcm_24000`, {
    method: 'POST',
    headers: { 'xi-api-key': UPSTREAM_KEY, 'content-type': 'application/json' },
    body: JSON.stringify({ text: TEXT, model_id: 'eleven_multilingual_v2' }),
  });
  const reader = response.body!.getReader();
  await reader.read();
  const at = performance.now();
  while (!(await reader.read()).done) {
    /* drain */
  }
  return at - started;
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

async function main(): Promise<void> {
  const users = Array.from({ length: Math.max(...CONCURRENCY) }, (_, i) => `user${i + 1}`);
  const keys = users.map(() => generateApiKey());
  const dataDir = await mkdtemp(join(tmpdir(), 'earshot-bench-'));
  const pacing = { firstByteLatencyMs: Number(args['first-byte-ms']), realtimeFactor: Number(args.rtf) };
  const standin = await startStandin({ apiKeys: [UPSTREAM_KEY], pacing, maxConcurrentRequests: 100 });
  const config = loadConfig({
    HOST: '127.0.0.1',
    PORT: '0',
    EARSHOT_DATA_DIR: dataDir,
    EARSHOT_API_KEYS: users.map((user, i) => `${user}:${sha256Hex(keys[i]!)}`).join(','),
  });
  const earshot = await startEarshot(config, {
    logger: createLogger('warn', { destination: 2 }),
    engine: new ElevenLabsEngine({ apiKey: UPSTREAM_KEY, baseUrl: standin.url, maxRetries: 0 }),
  });
  const players = await Promise.all(keys.map((key) => openPlayer(earshot.url, key)));
  const clients = await Promise.all(keys.map((key) => openMcp(earshot.url, key)));

  // Warm up connections, caches and the JIT once per user before measuring.
  await Promise.all(clients.map((client, i) => viaEarshot(client, players[i]!)));
  await direct(standin.url);

  const rows: {
    concurrency: number;
    path: string;
    samples: number;
    p50: number;
    p95: number;
    mean: number;
  }[] = [];
  for (const concurrency of CONCURRENCY) {
    const earshotTimes: number[] = [];
    const directTimes: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      // Interleave the two paths so both see the same machine load.
      earshotTimes.push(
        ...(await Promise.all(
          clients.slice(0, concurrency).map((client, i) => viaEarshot(client, players[i]!)),
        )),
      );
      directTimes.push(
        ...(await Promise.all(Array.from({ length: concurrency }, () => direct(standin.url)))),
      );
    }
    for (const [path, times] of [
      ['Earshot player (MCP speak → WS frame)', earshotTimes],
      ['Direct API client (HTTP → first chunk)', directTimes],
    ] as const) {
      const mean = times.reduce((a, b) => a + b, 0) / times.length;
      rows.push({
        concurrency,
        path,
        samples: times.length,
        p50: percentile(times, 50),
        p95: percentile(times, 95),
        mean,
      });
    }
  }

  const table = [
    `Time to first audio byte — stand-in paced at ${pacing.firstByteLatencyMs} ms first byte, ${pacing.realtimeFactor}× real time; ${ROUNDS} rounds`,
    '',
    '| speakers | path | samples | p50 ms | p95 ms | mean ms |',
    '|---:|---|---:|---:|---:|---:|',
    ...rows.map(
      (r) =>
        `| ${r.concurrency} | ${r.path} | ${r.samples} | ${r.p50.toFixed(1)} | ${r.p95.toFixed(1)} | ${r.mean.toFixed(1)} |`,
    ),
  ];
  for (const concurrency of CONCURRENCY) {
    const [via, dir] = rows.filter((r) => r.concurrency === concurrency);
    table.push(
      `\nOverhead of Earshot at ${concurrency} speaker(s): p50 +${(via!.p50 - dir!.p50).toFixed(1)} ms, p95 +${(via!.p95 - dir!.p95).toFixed(1)} ms`,
    );
  }
  console.log(table.join('\n'));

  await mkdir(join(args.out, '..'), { recursive: true });
  const report = {
    date: new Date().toISOString(),
    node: process.version,
    pacing,
    rounds: ROUNDS,
    text: TEXT,
    rows,
  };
  await writeFile(args.out, JSON.stringify(report, null, 2));
  console.log(`\nJSON: ${args.out}`);

  for (const player of players) player.socket.close();
  await Promise.all(clients.map((client) => client.close()));
  await earshot.shutdown();
  await standin.close();
  await rm(dataDir, { recursive: true, force: true });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});

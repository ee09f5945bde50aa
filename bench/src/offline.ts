/**
 * The offline voice under load: how long user B waits for the first audio of a short speech, alone and
 * while user A's pathological long speech ('w ' × 2,500 at speed 0.7: a minute of audio and about a second
 * of work per piece) is being generated; plus the engine's start-up, worker start and first-audio times.
 * A measurement, not a test: nothing here passes or fails.
 *
 *   npm run build && npm run offline -w bench [-- --rounds 20 --out samples.json]
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { createLogger, generateApiKey, loadConfig, OfflineEngine, sha256Hex, startEarshot } from 'earshot';
import WebSocket from 'ws';

const { values: args } = parseArgs({
  options: { rounds: { type: 'string', default: '15' }, out: { type: 'string' } },
});
const ROUNDS = Number(args.rounds);
const LONG_TEXT = 'w '.repeat(2500).trim();

interface Player {
  /** Resolves at the next binary frame. */
  nextFrame(): Promise<number>;
  /** Resolves at the next `type` message. */
  next(type: string): Promise<number>;
  close(): void;
}

async function openPlayer(url: string, key: string): Promise<Player> {
  const socket = new WebSocket(
    `${url.replace('http', 'ws')}/ws`,
    ['earshot.v1', `bearer.${Buffer.from(key).toString('base64url')}`],
    { origin: url },
  );
  const waiting = new Map<string, ((at: number) => void)[]>();
  const settle = (kind: string) => {
    const resolvers = waiting.get(kind) ?? [];
    waiting.delete(kind);
    const at = performance.now();
    for (const resolve of resolvers) resolve(at);
  };
  socket.on('message', (data, isBinary) => {
    settle(isBinary ? 'frame' : (JSON.parse((data as Buffer).toString()) as { type: string }).type);
  });
  await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
  const wait = (kind: string) =>
    new Promise<number>((resolve) => waiting.set(kind, [...(waiting.get(kind) ?? []), resolve]));
  return { nextFrame: () => wait('frame'), next: wait, close: () => socket.close() };
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

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

const row = (name: string, times: number[]) =>
  times.length === 0
    ? `| ${name} | 0 | – | – | – |`
    : `| ${name} | ${times.length} | ${percentile(times, 50).toFixed(0)} | ${percentile(times, 95).toFixed(0)} | ${Math.max(...times).toFixed(0)} |`;

/** Start times of workers after each engine's first (those get the compiled module, already warm). */
const workerStarts: number[] = [];
/** B's jobs, alone and while A speaks: waiting for a worker (queued → started), running on it (→ finished). */
const bWaits = { alone: [] as number[], withA: [] as number[] };
const bRuns = { alone: [] as number[], withA: [] as number[] };
let phase: 'alone' | 'withA' = 'alone';
type PoolEvent = { type: string; startMs?: number; requester?: string; text?: string };
const observe = () => {
  let first = true;
  const queuedAt = new Map<string, number>();
  const startedAt = new Map<string, number>();
  return {
    onEvent: (event: PoolEvent) => {
      if (event.type === 'worker-ready' && event.startMs !== undefined) {
        if (!first) workerStarts.push(event.startMs);
        first = false;
      }
      if (event.requester !== 'b' || event.text === undefined) return;
      const now = performance.now();
      if (event.type === 'job-queued') queuedAt.set(event.text, now);
      if (event.type === 'job-started') {
        startedAt.set(event.text, now);
        bWaits[phase].push(now - (queuedAt.get(event.text) ?? now));
      }
      if (event.type === 'job-finished') bRuns[phase].push(now - (startedAt.get(event.text) ?? now));
    },
  };
};

/** The engine alone: cold start (compile + first worker) and first audio of a short sentence, warm. */
async function engineTimes(): Promise<{ coldStarts: number[]; firstAudio: number[] }> {
  const coldStarts: number[] = [];
  const firstAudio: number[] = [];
  for (let round = 0; round < 3; round++) {
    const started = performance.now();
    const engine = new OfflineEngine(observe());
    await engine.checkReady();
    coldStarts.push(performance.now() - started);
    for (let i = 0; i < 10; i++) {
      const begin = performance.now();
      const stream = await engine.synthesize(
        { text: `The build finished, run ${i}.`, voiceId: 'slt' },
        new AbortController().signal,
      );
      for await (const event of stream.events) {
        if (event.type !== 'audio') continue;
        firstAudio.push(performance.now() - begin);
        break;
      }
    }
    await engine.close();
  }
  return { coldStarts, firstAudio };
}

async function main(): Promise<void> {
  const { coldStarts, firstAudio } = await engineTimes();

  const keys = { a: generateApiKey(), b: generateApiKey() };
  const dataDir = await mkdtemp(join(tmpdir(), 'earshot-bench-'));
  const config = loadConfig({
    HOST: '127.0.0.1',
    PORT: '0',
    EARSHOT_DATA_DIR: dataDir,
    EARSHOT_API_KEYS: `a:${sha256Hex(keys.a)},b:${sha256Hex(keys.b)}`,
  });
  const earshot = await startEarshot(config, {
    logger: createLogger('warn', { destination: 2 }),
    engine: new OfflineEngine(observe()),
  });
  const [playerA, playerB] = await Promise.all([
    openPlayer(earshot.url, keys.a),
    openPlayer(earshot.url, keys.b),
  ]);
  const [clientA, clientB] = await Promise.all([openMcp(earshot.url, keys.a), openMcp(earshot.url, keys.b)]);

  let round = 0;
  /** ms from B's speak call to B's first audio frame; each text differs so nothing is replayed from history. */
  const speakB = async (): Promise<number> => {
    const frame = playerB.nextFrame();
    const started = performance.now();
    const call = clientB.callTool({ name: 'speak', arguments: { text: `Build ${round++} finished.` } });
    const at = await frame;
    await call;
    return at - started;
  };

  let aRunning: Promise<unknown> | undefined;
  /** Starts A's long speech (again, if the last one ended) and resolves once its first piece has arrived. */
  const ensureA = async () => {
    if (aRunning) return;
    const firstPiece = playerA.next('speech.alignment');
    aRunning = clientA
      .callTool({
        name: 'speak',
        arguments: { text: `${LONG_TEXT.slice(0, -2)} ${round}`, settings: { speed: 0.7 } },
      })
      .finally(() => (aRunning = undefined));
    await firstPiece;
  };

  await speakB(); // warm-up
  const alone: number[] = [];
  for (let i = 0; i < ROUNDS; i++) alone.push(await speakB());
  const withA: number[] = [];
  phase = 'withA';
  for (let i = 0; i < ROUNDS; i++) {
    await ensureA();
    // Land B at different points of A's piece.
    await new Promise((resolve) => setTimeout(resolve, Math.random() * 700));
    withA.push(await speakB());
  }
  await clientA.callTool({ name: 'stop_speaking', arguments: {} });
  await aRunning;

  const delays = withA.map((ms) => ms - percentile(alone, 50));
  console.log(
    [
      `Offline voice: user B's first audio (MCP speak → first WS frame), alone and while user A speaks ` +
        `'w ' × 2,500 at speed 0.7; ${ROUNDS} rounds, ${process.version}`,
      '',
      '| measure | samples | p50 ms | p95 ms | max ms |',
      '|---|---:|---:|---:|---:|',
      row('engine ready (compile + first worker)', coldStarts),
      row('engine first audio, short sentence', firstAudio),
      row("B's first audio, alone", alone),
      row("B's first audio, while A speaks", withA),
      row('delay A adds to B (with A − median alone)', delays),
      row('a further worker starts (compiled module handed over)', workerStarts),
      row("B's sentence waits for a worker, alone", bWaits.alone),
      row("B's sentence waits for a worker, while A speaks", bWaits.withA),
      row("B's sentence runs on its worker, alone", bRuns.alone),
      row("B's sentence runs on its worker, while A speaks", bRuns.withA),
    ].join('\n'),
  );

  if (args.out) {
    const samples = {
      coldStarts,
      firstAudio,
      alone,
      withA,
      workerStarts,
      bWaits,
      bRuns,
      node: process.version,
    };
    await writeFile(args.out, JSON.stringify(samples, null, 2));
  }

  playerA.close();
  playerB.close();
  await Promise.all([clientA.close(), clientB.close()]);
  await earshot.shutdown();
  await rm(dataDir, { recursive: true, force: true });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});

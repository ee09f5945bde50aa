/**
 * `npm run bench:store`: the SQLite store with a large history — list and search latency (p50/p95), open
 * time, and the real server's start-up (`earshot serve` until it listens), against an empty database.
 * Prints tables; asserts nothing (tests do that).
 *
 * `ITEMS=20000 npm run bench:store` for a quicker run.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import type { HistoryItem } from '@earshot/protocol';
import { SqliteStore } from 'earshot';

const ITEMS = Number(process.env.ITEMS ?? 100_000);
const RUNS = 200;
const USER = 'bench';

/** Deterministic words: a few very common, most rare, like real speech summaries. */
const COMMON = ['the', 'build', 'tests', 'finished', 'deploy', 'review', 'error', 'passed'];
function word(random: () => number): string {
  if (random() < 0.3) return COMMON[Math.floor(random() * COMMON.length)]!;
  return `w${Math.floor(random() * 20_000).toString(36)}`;
}
function rng(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return state / 2 ** 31;
  };
}

function item(i: number, random: () => number): HistoryItem {
  const text = Array.from({ length: 8 + Math.floor(random() * 20) }, () => word(random)).join(' ');
  return {
    id: `it${i.toString(36).padStart(6, '0')}`,
    createdAt: new Date(Date.UTC(2025, 0, 1) + i * 60_000).toISOString(),
    text,
    voice: { id: 'v', name: i % 7 === 0 ? 'Alice' : 'Robert' },
    model: 'eleven_flash_v2_5',
    source: 'mcp',
    engine: 'elevenlabs',
    characters: text.length,
    credits: text.length,
    durationMs: 1000,
    audio: null,
    status: 'completed',
  };
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function time(
  runs: number,
  work: () => Promise<unknown>,
): Promise<{ p50: number; p95: number; max: number }> {
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    await work();
    samples.push(performance.now() - start);
  }
  samples.sort((a, b) => a - b);
  return { p50: percentile(samples, 50), p95: percentile(samples, 95), max: samples[samples.length - 1]! };
}

/** Median of 5: how long open() takes, and how long until the background integrity check has answered. */
async function openTime(
  dataDir: string,
  integrityCheck: 'quick' | 'background' | 'none',
): Promise<{ open: number; checked: number }> {
  const samples: { open: number; checked: number }[] = [];
  for (let i = 0; i < 5; i++) {
    const start = performance.now();
    const store = SqliteStore.open({ dataDir, integrityCheck, maintainOnOpen: false });
    const open = performance.now() - start;
    await store.integrity;
    samples.push({ open, checked: performance.now() - start });
    await store.close();
  }
  const median = (values: number[]) => values.sort((a, b) => a - b)[2]!;
  return { open: median(samples.map((s) => s.open)), checked: median(samples.map((s) => s.checked)) };
}

const CLI = fileURLToPath(new URL('../../server/dist/bundle/main.js', import.meta.url));

/** Median of 5: from spawning `earshot serve` on the folder until it prints that it listens. */
async function serverStart(dataDir: string): Promise<number> {
  const samples: number[] = [];
  for (let i = 0; i < 5; i++) {
    const start = performance.now();
    const child = spawn(process.execPath, [CLI, 'serve'], {
      env: {
        PATH: process.env.PATH ?? '',
        HOST: '127.0.0.1',
        PORT: '0',
        EARSHOT_DATA_DIR: dataDir,
        EARSHOT_API_KEY: 'bench-key-0123456789abcdef',
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let output = '';
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (data: Buffer) => {
        output += data.toString();
        if (output.includes('listening on')) resolve();
      });
      child.on('exit', (code) => reject(new Error(`earshot serve exited with ${code}:\n${output}`)));
    });
    samples.push(performance.now() - start);
    const exited = new Promise((resolve) => child.on('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  }
  return samples.sort((a, b) => a - b)[2]!;
}

const ms = (value: number) => value.toFixed(2).padStart(9);

async function main(): Promise<void> {
  const empty = await mkdtemp(join(tmpdir(), 'earshot-bench-empty-'));
  const full = await mkdtemp(join(tmpdir(), 'earshot-bench-full-'));
  try {
    await SqliteStore.open({ dataDir: empty, maintainOnOpen: false }).close();
    const store = SqliteStore.open({ dataDir: full, maintainOnOpen: false });
    const random = rng(42);
    const seedStart = performance.now();
    for (let i = 0; i < ITEMS; i++) await store.putHistory(USER, item(i, random));
    const seedSeconds = (performance.now() - seedStart) / 1000;

    const deepCursor = await (async () => {
      let cursor: string | undefined;
      for (let page = 0; page < 50; page++)
        cursor = (await store.listHistory(USER, { limit: 20, cursor })).nextCursor!;
      return cursor;
    })();
    const middle = new Date(Date.UTC(2025, 0, 1) + (ITEMS / 2) * 60_000).toISOString();
    const cases: [string, () => Promise<unknown>][] = [
      ['list: first page (20)', () => store.listHistory(USER, { limit: 20 })],
      ['list: page 51 by cursor', () => store.listHistory(USER, { limit: 20, cursor: deepCursor })],
      ['list: before the middle', () => store.listHistory(USER, { limit: 20, before: middle })],
      ['search: common word "finished"', () => store.listHistory(USER, { limit: 20, search: 'finished' })],
      ['search: voice "alice"', () => store.listHistory(USER, { limit: 20, search: 'alice' })],
      ['search: rare word', () => store.listHistory(USER, { limit: 20, search: 'w1a2b' })],
      ['search: no match', () => store.listHistory(USER, { limit: 20, search: 'zzzzzz' })],
      ['search: 2 characters "w9"', () => store.listHistory(USER, { limit: 20, search: 'w9' })],
      ['get by id', () => store.getHistory(USER, 'it000abc')],
    ];
    console.log(
      `SQLite store, ${ITEMS.toLocaleString('en')} history items for one user (seeded in ${seedSeconds.toFixed(1)} s)\n`,
    );
    console.log(
      `${'operation'.padEnd(34)}${'p50 ms'.padStart(9)}${'p95 ms'.padStart(9)}${'max ms'.padStart(9)}`,
    );
    for (const [name, work] of cases) {
      await time(20, work); // warm
      const result = await time(RUNS, work);
      console.log(`${name.padEnd(34)}${ms(result.p50)}${ms(result.p95)}${ms(result.max)}`);
    }
    const maintainStart = performance.now();
    await store.maintain();
    const maintainMs = performance.now() - maintainStart;
    await store.close();

    const label = `${ITEMS / 1000}k`;
    console.log(`\n${'open, median of 5 (ms)'.padEnd(34)}${'empty'.padStart(9)}${label.padStart(9)}`);
    for (const check of ['none', 'background', 'quick'] as const) {
      const [a, b] = [await openTime(empty, check), await openTime(full, check)];
      console.log(`${`open(), integrityCheck: ${check}`.padEnd(34)}${ms(a.open)}${ms(b.open)}`);
      if (check === 'background') {
        console.log(`${'  … until the worker has checked'.padEnd(34)}${ms(a.checked)}${ms(b.checked)}`);
      }
    }
    console.log(`${'maintain() (after listen)'.padEnd(34)}${''.padStart(9)}${ms(maintainMs)}`);
    const [emptyStart, fullStart] = [await serverStart(empty), await serverStart(full)];
    console.log(`${'earshot serve until it listens'.padEnd(34)}${ms(emptyStart)}${ms(fullStart)}`);
  } finally {
    await rm(empty, { recursive: true, force: true });
    await rm(full, { recursive: true, force: true });
  }
}

await main();

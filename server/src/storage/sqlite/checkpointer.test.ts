import { mkdtemp, readdir, readFile, readlink, realpath, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { at, historyItem } from '../../../test/support/storage-items.js';
import { SqliteStore } from './store.js';

const folders: string[] = [];
const stores: SqliteStore[] = [];
afterEach(async () => {
  await Promise.allSettled(stores.splice(0).map((store) => store.close()));
  await Promise.all(folders.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

async function openStore(checkpointIntervalMs: number, start = true) {
  const dir = await realpath(await mkdtemp(join(tmpdir(), 'earshot-checkpoints-')));
  folders.push(dir);
  const store = SqliteStore.open({ dataDir: dir, maintainOnOpen: false, checkpointIntervalMs });
  stores.push(store);
  if (start) await store.checkpoints?.start();
  return { dir, store };
}

/** Text that differs from item to item, so the full-text index grows too. */
const words = (index: number) => Array.from({ length: 300 }, (_, word) => `w${index}x${word}`).join(' ');

const PAGE_BYTES = 4096;

/** Frames in the WAL now: mxFrame in the WAL index (the -shm file, byte 16; SQLite's format, native byte order). */
async function walFrames(dir: string): Promise<number> {
  return (await readFile(join(dir, 'earshot.db-shm'))).readUInt32LE(16);
}

/** Descriptors this process has open on files in `dir`. */
async function openFiles(dir: string): Promise<number> {
  let count = 0;
  for (const fd of await readdir('/proc/self/fd')) {
    if ((await readlink(`/proc/self/fd/${fd}`).catch(() => '')).startsWith(dir)) count++;
  }
  return count;
}

/** The WAL file's header: its salts (bytes 16–23) change whenever the WAL starts over. */
async function walHeader(dir: string): Promise<Buffer> {
  return (await readFile(join(dir, 'earshot.db-wal'))).subarray(0, 32);
}
const AN_HOUR = 3_600_000;
const ITEMS = 150;

describe('WAL checkpoints on a worker thread', () => {
  it('leaves checkpoints to the worker: the WAL grows past the 1,000 pages at which SQLite would stop to copy it', async () => {
    const { dir, store } = await openStore(AN_HOUR);
    // ~20 WAL pages each (the row and its full-text index): ~3,000 pages, under the store's own backstop.
    for (let index = 0; index < ITEMS; index++) {
      await store.putHistory('alice', historyItem(`h${index}`, at(index), words(index)));
    }
    const walPages = (await stat(join(dir, 'earshot.db-wal'))).size / PAGE_BYTES;
    // Nobody checkpointed on the way: SQLite's default would have, on the commit passing 1,000 pages.
    expect(walPages).toBeGreaterThan(1500);
    const report = await store.checkpoints!.now();
    expect(report).toEqual({ busy: false, log: expect.any(Number), checkpointed: report.log });
    expect(report.log).toBeGreaterThan(1500);
    // Everything is in the database proper, and readable.
    expect(await store.getHistory('alice', `h${ITEMS - 1}`)).toMatchObject({ id: `h${ITEMS - 1}` });
  });

  it('checkpoints on its interval, with no call to ask, and starts the WAL over', async () => {
    const { dir, store } = await openStore(20);
    for (let index = 0; index < 20; index++) {
      await store.putHistory('alice', historyItem(`h${index}`, at(index), words(index)));
    }
    // Copied into the database, and the WAL started over by the worker's own one-row write (each item added ~20
    // frames; without the worker nothing would copy them before SQLite's 1,000 pages).
    await vi.waitFor(async () => expect(await walFrames(dir)).toBeLessThan(10), {
      timeout: 10_000,
      interval: 20,
    });
  });

  it('after a checkpoint the store’s writes only append to the WAL: the worker started it over (its header as written)', async () => {
    const { dir, store } = await openStore(AN_HOUR);
    await store.putHistory('alice', historyItem('one', at(1), words(1)));
    await store.checkpoints!.now();
    const header = await walHeader(dir);
    const frames = await walFrames(dir);
    await store.putHistory('alice', historyItem('two', at(2), words(2)));
    // Starting the WAL over writes a new header with new salts, and fsyncs it, in the thread that writes: not here.
    expect(await walHeader(dir)).toEqual(header);
    expect(await walFrames(dir)).toBeGreaterThan(frames);
  });

  it('starts its worker after one interval, not with the store (start-up has its own work)', async () => {
    const { dir, store } = await openStore(AN_HOUR, false);
    await store.integrity;
    const withoutWorker = await openFiles(dir);
    await store.checkpoints!.start();
    expect(await openFiles(dir)).toBeGreaterThan(withoutWorker);
  });

  it('closing the store ends the worker and closes its connection', async () => {
    const { dir, store } = await openStore(AN_HOUR);
    await store.putHistory('alice', historyItem('one', at(1), 'some words'));
    await store.integrity;
    expect(await openFiles(dir)).toBeGreaterThan(0);
    await store.close();
    expect(await openFiles(dir)).toBe(0);
    await expect(store.checkpoints!.now()).rejects.toThrow(/stopped/);
  });

  it('with an interval of 0, SQLite checkpoints on commit as it does by default, and there is no worker', async () => {
    const { dir, store } = await openStore(0);
    expect(store.checkpoints).toBeUndefined();
    for (let index = 0; index < ITEMS; index++) {
      await store.putHistory('alice', historyItem(`h${index}`, at(index), words(index)));
    }
    expect((await stat(join(dir, 'earshot.db-wal'))).size / PAGE_BYTES).toBeLessThan(1500);
  });
});

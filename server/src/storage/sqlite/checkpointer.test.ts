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

async function openStore(checkpointIntervalMs: number) {
  const dir = await realpath(await mkdtemp(join(tmpdir(), 'earshot-checkpoints-')));
  folders.push(dir);
  const store = SqliteStore.open({ dataDir: dir, maintainOnOpen: false, checkpointIntervalMs });
  stores.push(store);
  await store.checkpoints?.ready;
  return { dir, store };
}

/** Text that differs from item to item, so the full-text index grows too. */
const words = (index: number) => Array.from({ length: 300 }, (_, word) => `w${index}x${word}`).join(' ');

const PAGE_BYTES = 4096;
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

  it('checkpoints on its interval: every frame in the WAL is copied into the database, with no call to ask', async () => {
    const { dir, store } = await openStore(20);
    for (let index = 0; index < 20; index++) {
      await store.putHistory('alice', historyItem(`h${index}`, at(index), words(index)));
    }
    // The WAL index (the -shm file) says how many frames the WAL holds (mxFrame, at byte 16) and how many of them are
    // in the database (nBackfill, at byte 96): SQLite's file format, in the machine's byte order.
    await vi.waitFor(
      async () => {
        const index = await readFile(join(dir, 'earshot.db-shm'));
        const frames = index.readUInt32LE(16);
        expect(frames).toBeGreaterThan(0);
        expect(index.readUInt32LE(96)).toBe(frames);
      },
      { timeout: 10_000, interval: 20 },
    );
  });

  it('a checkpoint is not a change by another connection: the settings cache keeps its entries', async () => {
    const { store } = await openStore(AN_HOUR);
    await store.putHistory('alice', historyItem('one', at(1), 'some words'));
    const mark = store.changeMark();
    await store.checkpoints!.now();
    expect(store.changeMark()).toBe(mark);
  });

  it('closing the store ends the worker and closes its connection', async () => {
    const { dir, store } = await openStore(AN_HOUR);
    const openFiles = async () => {
      let count = 0;
      for (const fd of await readdir('/proc/self/fd')) {
        if ((await readlink(`/proc/self/fd/${fd}`).catch(() => '')).startsWith(dir)) count++;
      }
      return count;
    };
    await store.putHistory('alice', historyItem('one', at(1), 'some words'));
    await store.integrity;
    expect(await openFiles()).toBeGreaterThan(0);
    await store.close();
    expect(await openFiles()).toBe(0);
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

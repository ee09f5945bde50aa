import { existsSync, statSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { at, historyItem } from '../../../test/support/storage-items.js';
import { testFolders } from '../../../test/support/test-folders.js';
import { startStore } from '../../store-runtime.js';
import { BACKSTOP_FACTOR, DEFAULT_CHECKPOINT_PAGES, startCheckpointer } from './checkpointer.js';
import { DATABASE_FILE, SqliteStore } from './store.js';

const { folder: dataDir, afterTest } = testFolders('earshot-checkpointer-');

/** A store in a new folder with the checkpoint worker (options: its threshold and interval), closed after the test. */
async function backgroundStore(
  options: { checkpointPages?: number; checkpointEveryMs?: number } = {},
): Promise<{ store: SqliteStore; dir: string }> {
  const dir = await dataDir();
  const store = SqliteStore.open({
    dataDir: dir,
    maintainOnOpen: false,
    integrityCheck: 'none',
    checkpoint: 'background',
    ...options,
  });
  afterTest(() => store.close());
  return { store, dir };
}

/** Frames of the log not yet copied back into the database, as a fresh connection's PASSIVE check sees them. */
function walPages(path: string): { log: number; checkpointed: number } {
  const db = new DatabaseSync(path);
  try {
    // A checkpoint that copies nothing (the worker may be running one): `busy` reports it, log and checkpointed
    // still say how far the log got. wal_checkpoint(NOOP) does not exist; PASSIVE with nothing new is a read.
    const row = db.prepare('PRAGMA wal_checkpoint(PASSIVE)').get() as { log: number; checkpointed: number };
    return { log: Number(row.log), checkpointed: Number(row.checkpointed) };
  } finally {
    db.close();
  }
}

describe('WAL checkpoints off the event loop', () => {
  it("leaves the store's connection a backstop only and copies the log back on the worker once pages wait", async () => {
    // Far below the history written here, and the backstop (4×) above it, so the worker is the one to copy back.
    const { store, dir } = await backgroundStore({ checkpointPages: 100, checkpointEveryMs: 5 });
    expect(store.autocheckpointPages()).toBe(100 * BACKSTOP_FACTOR);
    const checkpoint = store.checkpointer!.next();
    // Each history row touches the table, its indexes and the trigram index: several pages per commit.
    for (let i = 0; i < 25; i++)
      await store.putHistory('alice', historyItem(`h${i}`, at(i), `item number ${i}`));
    const walBefore = statSync(join(dir, `${DATABASE_FILE}-wal`)).size;
    const result = await checkpoint;
    expect(result.log).toBeGreaterThanOrEqual(100);
    // PASSIVE, never TRUNCATE: the log keeps its size and the disk gets no room back. A checkpoint that freed
    // space at moments of its own let a full disk's speech booking and readiness probe find room (fail open).
    expect(statSync(join(dir, `${DATABASE_FILE}-wal`)).size).toBeGreaterThanOrEqual(walBefore);
    expect(result.checkpointed).toBeGreaterThan(0);
    expect(store.checkpointer!.runs).toBeGreaterThanOrEqual(1);
    // Every write landed, whatever the checkpoints did beside them.
    const page = await store.listHistory('alice', { limit: 50 });
    expect(page.items).toHaveLength(25);
  });

  it('looks at the log at once after a run of writes, not only at its interval (a burst stays bounded)', async () => {
    // An interval far longer than the test: only the writes' nudges can make it look.
    const { store } = await backgroundStore({ checkpointPages: 150, checkpointEveryMs: 3_600_000 });
    await store.checkpointer!.ready;
    const checkpoint = store.checkpointer!.next();
    for (let i = 0; i < 40; i++)
      await store.putHistory('alice', historyItem(`b${i}`, at(i), `burst item ${i}`));
    expect((await checkpoint).checkpointed).toBeGreaterThan(0);
  });

  it("bounds the log under writes back to back: the store's connection checkpoints past the backstop", async () => {
    // The worker looks only when nudged (every 32 store calls), not on a timer: while one of its checkpoints runs,
    // the commits' own checkpoints find the checkpoint lock taken and the log grows by the writes made meanwhile,
    // which on a loaded disk (a slow fsync) reached 2 MB with a worker looking every 250 ms.
    const { store, dir } = await backgroundStore({ checkpointPages: 20, checkpointEveryMs: 3_600_000 });
    await store.checkpointer!.ready;
    let largest = 0;
    for (let i = 0; i < 300; i++) {
      await store.putHistory('alice', historyItem(`w${i}`, at(i), `written back to back, number ${i}`));
      largest = Math.max(largest, statSync(join(dir, `${DATABASE_FILE}-wal`)).size);
    }
    // ~12 pages a write: 300 writes are ~15 MB of log when it never starts over (a worker copying back while
    // writes keep coming never sees every frame copied; 12.4 MB measured without the backstop). With the backstop
    // at 80 pages it starts over at well under 1 MB, plus what a slow worker checkpoint lets pile up.
    expect(largest).toBeLessThan(5 * 1024 * 1024);
  });

  it('keeps checkpoints on the connection that commits when asked to (one-shot commands)', async () => {
    const store = SqliteStore.open({
      dataDir: await dataDir(),
      maintainOnOpen: false,
      integrityCheck: 'none',
    });
    afterTest(() => store.close());
    expect(store.checkpointer).toBeUndefined();
    expect(store.autocheckpointPages()).toBe(DEFAULT_CHECKPOINT_PAGES);
  });

  it('stops the worker when the store closes: its connection closes too, so SQLite removes the log', async () => {
    const { store, dir } = await backgroundStore();
    await store.checkpointer!.ready;
    await store.putHistory('alice', historyItem('h1', at(1), 'one item'));
    const path = join(dir, DATABASE_FILE);
    expect(walPages(path).log).toBeGreaterThan(0);
    await store.close();
    // SQLite checkpoints and deletes the log when its last connection closes: a worker left running keeps it.
    expect(existsSync(`${path}-wal`)).toBe(false);
  });

  it('gives checkpoints back to the connection that commits when the worker fails', async () => {
    const dir = await dataDir();
    const db = new DatabaseSync(join(dir, 'own.db'));
    afterTest(() => db.close());
    db.exec('PRAGMA journal_mode = WAL');
    // A folder where the database should be: the worker cannot open it.
    const notADatabase = join(dir, 'folder.db');
    await mkdir(notADatabase);
    const checkpointer = startCheckpointer(db, { path: notADatabase, busyTimeoutMs: 100, everyMs: 5 });
    afterTest(() => checkpointer.stop());
    const error = await checkpointer.failed;
    expect(error.message).toMatch(/checkpoint worker failed/);
    const row = db.prepare('PRAGMA wal_autocheckpoint').get() as { wal_autocheckpoint: number };
    expect(Number(row.wal_autocheckpoint)).toBe(DEFAULT_CHECKPOINT_PAGES);
    await expect(checkpointer.next()).rejects.toThrow(/not running/);
  });

  it('is what the server opens its local store with', async () => {
    const dir = await dataDir();
    const running = await startStore({ kind: 'sqlite', dataDir: dir }, pino({ level: 'silent' }));
    afterTest(() => running.close());
    const store = running.store as SqliteStore;
    expect(store.checkpointer).toBeDefined();
    expect(store.autocheckpointPages()).toBe(DEFAULT_CHECKPOINT_PAGES * BACKSTOP_FACTOR);
  });
});

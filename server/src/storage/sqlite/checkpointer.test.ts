import { existsSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { at, historyItem } from '../../../test/support/storage-items.js';
import { startStore } from '../../store-runtime.js';
import { DEFAULT_CHECKPOINT_PAGES, startCheckpointer } from './checkpointer.js';
import { DATABASE_FILE, SqliteStore } from './store.js';

const folders: string[] = [];
const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  await Promise.allSettled(cleanups.splice(0).map((cleanup) => cleanup()));
  await Promise.all(folders.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

async function dataDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'earshot-checkpointer-'));
  folders.push(dir);
  return dir;
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
  it("leaves the store's connection without checkpoints and copies the log back on the worker once pages wait", async () => {
    const dir = await dataDir();
    const store = SqliteStore.open({
      dataDir: dir,
      maintainOnOpen: false,
      integrityCheck: 'none',
      checkpoint: 'background',
      checkpointPages: 20,
      checkpointEveryMs: 5,
    });
    cleanups.push(() => store.close());
    expect(store.autocheckpointPages()).toBe(0);
    const checkpoint = store.checkpointer!.next();
    // Each history row touches the table, its indexes and the trigram index: several pages per commit.
    for (let i = 0; i < 30; i++)
      await store.putHistory('alice', historyItem(`h${i}`, at(i), `item number ${i}`));
    const walBefore = statSync(join(dir, `${DATABASE_FILE}-wal`)).size;
    const result = await checkpoint;
    expect(result.log).toBeGreaterThanOrEqual(20);
    // PASSIVE, never TRUNCATE: the log keeps its size and the disk gets no room back. A checkpoint that freed
    // space at moments of its own let a full disk's speech booking and readiness probe find room (fail open).
    expect(statSync(join(dir, `${DATABASE_FILE}-wal`)).size).toBeGreaterThanOrEqual(walBefore);
    expect(result.checkpointed).toBeGreaterThan(0);
    expect(store.checkpointer!.runs).toBeGreaterThanOrEqual(1);
    // Every write landed, whatever the checkpoints did beside them.
    const page = await store.listHistory('alice', { limit: 50 });
    expect(page.items).toHaveLength(30);
  });

  it('keeps checkpoints on the connection that commits when asked to (one-shot commands)', async () => {
    const store = SqliteStore.open({
      dataDir: await dataDir(),
      maintainOnOpen: false,
      integrityCheck: 'none',
    });
    cleanups.push(() => store.close());
    expect(store.checkpointer).toBeUndefined();
    expect(store.autocheckpointPages()).toBe(DEFAULT_CHECKPOINT_PAGES);
  });

  it('stops the worker when the store closes: its connection closes too, so SQLite removes the log', async () => {
    const dir = await dataDir();
    const store = SqliteStore.open({
      dataDir: dir,
      maintainOnOpen: false,
      integrityCheck: 'none',
      checkpoint: 'background',
    });
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
    cleanups.push(() => db.close());
    db.exec('PRAGMA journal_mode = WAL');
    // A folder where the database should be: the worker cannot open it.
    const notADatabase = join(dir, 'folder.db');
    await mkdir(notADatabase);
    const checkpointer = startCheckpointer(db, { path: notADatabase, busyTimeoutMs: 100, everyMs: 5 });
    cleanups.push(() => checkpointer.stop());
    const error = await checkpointer.failed;
    expect(error.message).toMatch(/checkpoint worker failed/);
    const row = db.prepare('PRAGMA wal_autocheckpoint').get() as { wal_autocheckpoint: number };
    expect(Number(row.wal_autocheckpoint)).toBe(DEFAULT_CHECKPOINT_PAGES);
    await expect(checkpointer.next()).rejects.toThrow(/not running/);
  });

  it('is what the server opens its local store with', async () => {
    const dir = await dataDir();
    const running = await startStore({ kind: 'sqlite', dataDir: dir }, pino({ level: 'silent' }));
    cleanups.push(() => running.close());
    const store = running.store as SqliteStore;
    expect(store.checkpointer).toBeDefined();
    expect(store.autocheckpointPages()).toBe(0);
  });
});

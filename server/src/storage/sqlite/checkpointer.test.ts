import { existsSync, statSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { Worker } from 'node:worker_threads';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { at, historyItem } from '../../../test/support/storage-items.js';
import { testFolders } from '../../../test/support/test-folders.js';
import { startStore } from '../../store-runtime.js';
import {
  BACKSTOP_FACTOR,
  CALLS_PER_LOOK,
  DEFAULT_CHECKPOINT_PAGES,
  HOLD_FACTOR,
  startCheckpointer,
  WalIndex,
} from './checkpointer.js';
import { HoldReport } from './hold-report.js';
import { DATABASE_FILE, SqliteStore, type SqliteStoreOptions } from './store.js';

const { folder: dataDir, afterTest } = testFolders('earshot-checkpointer-');

/** A store in a new folder with the checkpoint worker (options: its threshold and interval), closed after the test. */
async function backgroundStore(
  options: Pick<SqliteStoreOptions, 'checkpointPages' | 'checkpointEveryMs' | 'checkpointPause'> = {},
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

/** A pause for the checkpoint worker: it waits before each checkpoint until `go` (also called after the test). */
function heldWorker(): { pause: Int32Array; go: () => void } {
  const pause = new Int32Array(new SharedArrayBuffer(4));
  Atomics.store(pause, 0, 1);
  const go = () => {
    Atomics.store(pause, 0, 0);
    Atomics.notify(pause, 0);
  };
  afterTest(go);
  return { pause, go };
}

/**
 * A store whose worker waits before each checkpoint until `go` (a checkpoint is caught running), with a threshold
 * of 20 pages and no timer: the log is looked at every 32 store calls.
 */
async function pausedStore(): Promise<{ store: SqliteStore; dir: string; go: () => void }> {
  const { pause, go } = heldWorker();
  const { store, dir } = await backgroundStore({
    checkpointPages: 20,
    checkpointEveryMs: 3_600_000,
    checkpointPause: pause,
  });
  await store.checkpointer!.ready;
  return { store, dir, go };
}

/**
 * Writes until a batch is held (its flush runs one turn after the write is asked); `held` settles when that write
 * has committed (wrapped: an async function returning it would wait for it).
 */
async function writeUntilHeld(store: SqliteStore): Promise<{ held: Promise<void> }> {
  for (let i = 0; i < 100; i++) {
    const write = store.putHistory('alice', historyItem(`h${i}`, at(i), `held back, number ${i}`));
    await nextTurn();
    if (store.checkpointer!.holds > 0) return { held: write };
    await write;
  }
  throw new Error('100 writes and no batch held');
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

/** One event-loop turn: what a group commit waits for before it commits (or asks whether to hold). */
const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

function pageSizeOf(path: string): number {
  const db = new DatabaseSync(path, { readOnly: true });
  try {
    return Number((db.prepare('PRAGMA page_size').get() as { page_size: number }).page_size);
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

  it('bounds the log under writes back to back, however slow the checkpoints: writes wait past the hold mark', async () => {
    // The log is looked at only when nudged (every 32 store calls), not on a timer. Each worker checkpoint holds
    // SQLite's checkpoint lock, so the commits' own (the backstop) cannot run meanwhile; before the hold, on a
    // loaded disk (fsyncs of 30–200 ms), the log grew by every write made during one: up to 11 MB here.
    const { store, dir } = await backgroundStore({ checkpointPages: 20, checkpointEveryMs: 3_600_000 });
    await store.checkpointer!.ready;
    const wal = join(dir, `${DATABASE_FILE}-wal`);
    let largest = 0;
    for (let i = 0; i < 300; i++) {
      await store.putHistory('alice', historyItem(`w${i}`, at(i), `written back to back, number ${i}`));
      largest = Math.max(largest, statSync(wal).size);
    }
    // The log starts over once a held batch begins: it never holds more than the hold mark (40 pages here) plus
    // one batch (one write here, up to 42 pages measured when the full-text index merges), whatever the disk does.
    // The backstop alone (80 pages) lets it reach ~160 pages; without either, 300 writes are ~12 MB.
    const frameBytes = 24 + pageSizeOf(join(dir, DATABASE_FILE));
    expect(largest).toBeLessThanOrEqual(32 + (20 * HOLD_FACTOR + 64) * frameBytes);
    expect(store.checkpointer!.holds).toBeGreaterThan(0);
  });

  it('holds a batch while the log is past the hold mark until a worker checkpoint has run; the log then starts over', async () => {
    const { store, dir, go } = await pausedStore();
    const wal = new WalIndex(join(dir, `${DATABASE_FILE}-shm`));
    afterTest(() => wal.close());
    const { held } = await writeUntilHeld(store);
    const before = wal.read();
    expect(before.frames).toBeGreaterThanOrEqual(20 * HOLD_FACTOR);
    // A write asked now joins the held batch; neither commits while the worker's checkpoint has not run.
    const joined = store.putHistory('alice', historyItem('joined', at(200), 'joined the held batch'));
    await nextTurn();
    const settled = await Promise.race([
      Promise.all([held, joined]).then(() => 'committed'),
      Promise.resolve('waiting'),
    ]);
    expect(settled).toBe('waiting');
    expect(wal.read().frames).toBe(before.frames);

    go();
    await Promise.all([held, joined]);
    // Everything was copied back before the batch began, so its transaction started the log over.
    expect(wal.read().frames).toBeLessThan(before.frames);
    expect((await store.listHistory('alice', { limit: 200 })).items.map((item) => item.id)).toContain(
      'joined',
    );
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

  it('tries again at its next look when another connection is checkpointing, and keeps running', async () => {
    const dir = await dataDir();
    const path = join(dir, 'busy.db');
    const db = new DatabaseSync(path);
    afterTest(() => db.close());
    db.exec('PRAGMA journal_mode = WAL; CREATE TABLE t (x BLOB)');
    const write = () => db.exec('INSERT INTO t VALUES (randomblob(20000))');
    // Looks only when nudged (CALLS_PER_LOOK store calls), at the first page waiting.
    const checkpointer = startCheckpointer(db, { path, busyTimeoutMs: 100, pages: 1, everyMs: 3_600_000 });
    afterTest(() => checkpointer.stop());
    await checkpointer.ready;
    // This connection's backstop (4 pages here) would copy the log back itself: only the worker checkpoints.
    db.exec('PRAGMA wal_autocheckpoint = 0');
    const look = () => {
      for (let i = 0; i < CALLS_PER_LOOK; i++) checkpointer.storeCalled();
    };

    // A reader whose snapshot predates the frames written next: while it reads, no checkpoint can copy them, so
    // probing for the lock (a PASSIVE checkpoint of our own) changes nothing when the lock is still free.
    const reader = new DatabaseSync(path);
    afterTest(() => reader.close());
    reader.exec('BEGIN');
    reader.prepare('SELECT count(*) FROM t').get();
    write();
    // Another connection's FULL checkpoint holds SQLite's checkpoint lock while it waits for the writer's lock,
    // which this thread holds (BEGIN IMMEDIATE); a PASSIVE checkpoint then finds the lock taken.
    db.exec('BEGIN IMMEDIATE');
    const holder = await holdCheckpointLock(path);
    look();
    const outcome = await Promise.race([
      checkpointer.nextSkip(),
      checkpointer.next().then(() => 'checkpointed'),
    ]);
    expect(outcome).toBe('busy');
    // Still running, and still finding the lock taken at each look: nothing failed.
    look();
    expect(await checkpointer.nextSkip()).toBe('busy');
    expect(checkpointer.skipped).toMatchObject({ busy: expect.any(Number) as number, full: 0 });
    expect(checkpointer.skipped.busy).toBeGreaterThanOrEqual(2);
    expect(await Promise.race([checkpointer.failed.then(() => 'failed'), Promise.resolve('running')])).toBe(
      'running',
    );

    // The reader and the writer finish, the other checkpoint ends, and the worker's next look checkpoints.
    reader.exec('COMMIT');
    db.exec('COMMIT');
    await holder.done;
    write();
    const next = checkpointer.next();
    look();
    expect((await next).checkpointed).toBeGreaterThan(0);
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

interface CheckpointHolder {
  /** Settles when its checkpoint has ended (the writer let it run) and its connection is closed. */
  readonly done: Promise<void>;
}

/**
 * Another connection, on a thread of its own, running a FULL checkpoint of `path`: it takes SQLite's checkpoint
 * lock, then waits (up to a minute) for the writer's lock. Resolves once the lock is held, as a PASSIVE checkpoint
 * from this thread finds it (`busy`); the caller keeps the frames waiting from being copied by that probe.
 */
async function holdCheckpointLock(path: string): Promise<CheckpointHolder> {
  const worker = new Worker(
    `
    const { workerData } = require('node:worker_threads');
    const { DatabaseSync } = require('node:sqlite');
    const db = new DatabaseSync(workerData.path);
    db.exec('PRAGMA busy_timeout = 60000');
    db.prepare('PRAGMA wal_checkpoint(FULL)').get();
    db.close();
    `,
    { eval: true, workerData: { path } },
  );
  const done = new Promise<void>((resolve, reject) => {
    worker.once('error', reject);
    worker.once('exit', () => resolve());
  });
  let ended = false;
  void done.then(
    () => (ended = true),
    () => (ended = true),
  );
  const probe = new DatabaseSync(path);
  try {
    // The thread's start and its taking the lock are nothing this thread can wait on; the lock itself is.
    while (Number((probe.prepare('PRAGMA wal_checkpoint(PASSIVE)').get() as { busy: number }).busy) !== 1) {
      if (ended) throw new Error('the checkpoint holder ended before it held the lock');
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
  } finally {
    probe.close();
  }
  return { done };
}

describe('HoldReport', () => {
  it('warns once for the batches that waited for a checkpoint, with how long; says nothing while none did', async () => {
    const { store, go } = await pausedStore();
    type Line = { msg: string; heldBatches?: number; waitedMs?: number; level: number };
    const lines: Line[] = [];
    const log = pino(
      { level: 'info' },
      { write: (line: string) => void lines.push(JSON.parse(line) as Line) },
    );
    const report = new HoldReport(store.checkpointer!, log);
    report.report();
    expect(lines).toEqual([]);

    const { held } = await writeUntilHeld(store);
    // Held, not yet through: nothing to say yet.
    report.report();
    expect(lines).toEqual([]);
    go();
    await held;
    report.report();
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 40, heldBatches: store.checkpointer!.heldTime.batches });
    expect(lines[0]!.heldBatches).toBeGreaterThanOrEqual(1);
    expect(lines[0]!.waitedMs).toBeGreaterThanOrEqual(0);
    expect(lines[0]!.msg).toMatch(
      /waited \d+ ms in all for WAL checkpoints: the disk is slower than the writes/,
    );
    // Nothing new: no second line.
    report.report();
    expect(lines).toHaveLength(1);
  });

  it("is started with the server's store: a hold is logged, as the store's, within the report interval", async () => {
    const { pause, go } = heldWorker();
    type Line = { msg: string; component?: string; heldBatches?: number; level: number };
    const lines: Line[] = [];
    const log = pino(
      { level: 'info' },
      { write: (line: string) => void lines.push(JSON.parse(line) as Line) },
    );
    const holds = () => lines.filter((line) => line.heldBatches !== undefined);
    const running = await startStore({ kind: 'sqlite', dataDir: await dataDir() }, log, {
      checkpoints: { checkpointPages: 20, checkpointEveryMs: 3_600_000, checkpointPause: pause },
      holdReportEveryMs: 5,
    });
    let closed = false;
    afterTest(async () => {
      go();
      if (!closed) await running.close();
    });
    const store = running.store as SqliteStore;
    await store.checkpointer!.ready;
    const { held } = await writeUntilHeld(store);
    go();
    await held;
    await expect.poll(() => holds().length).toBe(1);
    expect(holds()[0]).toMatchObject({
      level: 40,
      component: 'store',
      heldBatches: store.checkpointer!.heldTime.batches,
    });
    await running.close();
    closed = true;
  });
});

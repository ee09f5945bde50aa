import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { describe, expect, it, vi } from 'vitest';
import type { HistoryItem } from '@earshot/protocol';
import { at, historyItem } from '../../../test/support/storage-items.js';
import { testFolders } from '../../../test/support/test-folders.js';
import type { Reservation } from '../contract.js';
import { StoreFullError, StoreInputError, StoreUnavailableError } from '../errors.js';
import { sqliteError } from './database.js';
import { GroupCommit, type GroupCommitOptions } from './group-commit.js';
import { DATABASE_FILE, SqliteStore, type SqliteStoreOptions } from './store.js';

const { folder: dataDir, afterTest } = testFolders('earshot-group-commit-');

/** Why a settled write failed; undefined when it did not. */
const reasonOf = (outcome: PromiseSettledResult<unknown>): unknown =>
  outcome.status === 'rejected' ? outcome.reason : undefined;

/** One event-loop turn: what the default batch waits for before it commits. */
const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

describe('GroupCommit on a database of its own', () => {
  async function table(
    options: GroupCommitOptions = {},
  ): Promise<{ db: DatabaseSync; batch: GroupCommit; rows: () => string[] }> {
    const path = join(await dataDir(), 'batch.db');
    const db = new DatabaseSync(path);
    afterTest(() => db.close());
    db.exec('PRAGMA journal_mode = WAL');
    db.exec('PRAGMA foreign_keys = ON');
    // A deferred foreign key is checked at COMMIT: the one way to make a COMMIT fail on demand.
    db.exec(`CREATE TABLE parent (id INTEGER PRIMARY KEY);
      CREATE TABLE row (v TEXT NOT NULL, parent INTEGER REFERENCES parent (id) DEFERRABLE INITIALLY DEFERRED);
      CREATE TABLE plain (v TEXT)`);
    const batch = new GroupCommit(db, (error, what) => sqliteError(error, path, what), options);
    const select = db.prepare('SELECT v FROM row ORDER BY rowid');
    return { db, batch, rows: () => select.all().map((row) => String(row.v)) };
  }

  it('runs the writes requested in one turn in one BEGIN … COMMIT, in order, each with its own result', async () => {
    const { db, batch, rows } = await table();
    const statements = vi.spyOn(db, 'exec');
    const add = db.prepare('INSERT INTO row (v) VALUES (?)');
    const results = await Promise.all(
      ['a', 'b', 'c'].map((v) => batch.write(`add ${v}`, () => add.run(v).lastInsertRowid)),
    );
    expect(results).toEqual([1, 2, 3]);
    expect(rows()).toEqual(['a', 'b', 'c']);
    const sql = statements.mock.calls.map(([text]) => text);
    expect(sql.filter((text) => text === 'BEGIN IMMEDIATE')).toHaveLength(1);
    expect(sql.filter((text) => text === 'COMMIT')).toHaveLength(1);
    expect(batch.commits).toBe(1);

    // The next turn's writes are the next batch.
    await batch.write('add d', () => add.run('d'));
    expect(batch.commits).toBe(2);
  });

  it('undoes a failing write’s statements and rejects only it; the others commit', async () => {
    const { db, batch, rows } = await table();
    const add = db.prepare('INSERT INTO row (v) VALUES (?)');
    const writes = [
      batch.write('add a', () => add.run('a')),
      batch.write('add half of b', () => {
        add.run('b-first-half');
        throw new Error('b cannot be finished');
      }),
      batch.write('add c', () => add.run('c')),
    ];
    const outcomes = await Promise.allSettled(writes);
    expect(outcomes.map((outcome) => outcome.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    const error = reasonOf(outcomes[1]!) as Error;
    expect(error).toBeInstanceOf(StoreUnavailableError);
    expect(error.message).toMatch(/^Could not add half of b in .*batch\.db: b cannot be finished\.$/);
    expect(rows()).toEqual(['a', 'c']);
    expect(batch.commits).toBe(1);
  });

  it('rejects every write of a batch whose COMMIT fails, rolls it back, and commits the next batch', async () => {
    const { db, batch, rows } = await table();
    const add = db.prepare('INSERT INTO row (v, parent) VALUES (?, ?)');
    const outcomes = await Promise.allSettled([
      batch.write('add a', () => add.run('a', null)),
      batch.write('add an orphan', () => add.run('orphan', 404)),
    ]);
    for (const outcome of outcomes) {
      expect(outcome.status).toBe('rejected');
      expect(reasonOf(outcome)).toBeInstanceOf(StoreUnavailableError);
      expect(String(reasonOf(outcome))).toMatch(/constraint failed/);
    }
    expect(db.isTransaction).toBe(false);
    expect(batch.commits).toBe(0);
    await batch.write('add b', () => add.run('b', null));
    expect(rows()).toEqual(['b']);
  });

  it('rejects every write when SQLite ends the whole transaction (SQLITE_FULL), and commits the next batch', async () => {
    const { db, batch, rows } = await table();
    const pages = Number((db.prepare('PRAGMA page_count').get() as { page_count: number }).page_count);
    db.exec(`PRAGMA max_page_count = ${pages + 5}`);
    const add = db.prepare('INSERT INTO row (v) VALUES (?)');
    // A one-row insert into a table without triggers or indexes has no statement journal: when it does not
    // fit, SQLite rolls back the whole transaction, taking the writes before it in the batch along.
    const addPlain = db.prepare('INSERT INTO plain (v) VALUES (?)');
    const outcomes = await Promise.allSettled([
      batch.write('add a', () => add.run('a')),
      batch.write('add a long text', () => addPlain.run('x'.repeat(100_000))),
      batch.write('add b', () => add.run('b')),
    ]);
    expect(outcomes.map((outcome) => (reasonOf(outcome) as Error | undefined)?.constructor)).toEqual([
      StoreFullError,
      StoreFullError,
      StoreFullError,
    ]);
    expect(String(reasonOf(outcomes[0]))).toMatch(/could not add a \(/);
    expect(rows()).toEqual([]);
    expect(batch.commits).toBe(0);
    await batch.write('add c', () => add.run('c'));
    expect(rows()).toEqual(['c']);
  });

  it('close() commits what is queued, then refuses new writes', async () => {
    const { db, batch, rows } = await table();
    const add = db.prepare('INSERT INTO row (v) VALUES (?)');
    const queued = batch.write('add a', () => add.run('a'));
    batch.close();
    await queued;
    expect(rows()).toEqual(['a']);
    await expect(batch.write('add b', () => add.run('b'))).rejects.toThrow(
      /^Could not add b in .*: the store is closed\.$/,
    );
  });

  /** A GroupCommit whose n-th batch waits on `holds[n]` (the ones after the last do not wait), and a writer of rows. */
  async function heldBatches(count: number) {
    const holds = Array.from({ length: count }, () => Promise.withResolvers<void>());
    let asked = 0;
    const { db, batch, rows } = await table({ holdBack: () => holds[asked++]?.promise });
    const add = db.prepare('INSERT INTO row (v) VALUES (?)');
    const write = (v: string) => batch.write(`add ${v}`, () => add.run(v));
    return { batch, rows, holds, write, asked: () => asked };
  }

  it('keeps a held batch open: writes requested meanwhile join it, and it commits once the hold settles', async () => {
    const { batch, rows, holds, write, asked } = await heldBatches(2);
    const first = write('a');
    await nextTurn();
    expect(asked()).toBe(1);
    const second = write('b');
    await nextTurn();
    expect(rows()).toEqual([]);
    expect(batch.commits).toBe(0);
    holds[0]!.resolve();
    await Promise.all([first, second]);
    expect(rows()).toEqual(['a', 'b']);
    expect(batch.commits).toBe(1);

    // Each batch asks again; a hold that fails still lets its batch commit (it only ever delays).
    const third = write('c');
    await nextTurn();
    expect(asked()).toBe(2);
    holds[1]!.reject(new Error('the hold failed'));
    await third;
    expect(rows()).toEqual(['a', 'b', 'c']);

    // No hold: the next turn commits.
    await write('d');
    expect(asked()).toBe(3);
    expect(batch.commits).toBe(3);
  });

  it('close() commits a held batch at once, without waiting for its hold', async () => {
    const { batch, rows, write } = await heldBatches(1);
    const held = write('a');
    await nextTurn();
    expect(rows()).toEqual([]);
    batch.close();
    await held;
    expect(rows()).toEqual(['a']);
    expect(batch.commits).toBe(1);
  });

  it('a hold that settles after its batch was flushed does not commit the next batch early', async () => {
    const { batch, rows, holds, write, asked } = await heldBatches(2);
    const first = write('a');
    await nextTurn();
    batch.flush();
    await first;
    const second = write('b');
    await nextTurn();
    expect(asked()).toBe(2);
    holds[0]!.resolve();
    await holds[0]!.promise;
    await nextTurn();
    expect(rows()).toEqual(['a']);
    holds[1]!.resolve();
    await second;
    expect(rows()).toEqual(['a', 'b']);
  });

  it('refuses a window that is not a number of milliseconds', async () => {
    const { db } = await table();
    for (const windowMs of [-1, Number.NaN])
      expect(() => new GroupCommit(db, () => new StoreUnavailableError('x'), { windowMs })).toThrow(
        RangeError,
      );
  });
});

describe('SQLite store: the writes at a speech’s end share a commit', () => {
  function openStore(options: Omit<SqliteStoreOptions, 'maintainOnOpen'>): SqliteStore {
    const store = SqliteStore.open({ maintainOnOpen: false, integrityCheck: 'none', ...options });
    afterTest(() => store.close());
    return store;
  }

  async function reserve(store: SqliteStore, user: string, characters: number): Promise<Reservation> {
    const decision = await store.reserveBudget({ user, characters, limit: null, at: new Date() });
    if (!decision.ok) throw new Error('refused');
    return decision.reservation;
  }

  const today = async (store: SqliteStore, user: string) => (await store.getUsage(user, 1))[0];

  it('commits the history and settles requested in one turn in one transaction', async () => {
    const store = openStore({ dataDir: await dataDir() });
    const spoken = await reserve(store, 'alice', 50);
    const failed = await reserve(store, 'alice', 30);
    const before = store.writes.commits;
    await Promise.all([
      store.putHistory('alice', historyItem('a1', at(1), 'first')),
      store.commitReservation(spoken, { characters: 45, credits: 45 }),
      store.putHistory('bob', historyItem('b1', at(2), 'second')),
      store.refundReservation(failed),
    ]);
    expect(store.writes.commits - before).toBe(1);
    expect((await store.getHistory('alice', 'a1'))?.text).toBe('first');
    expect((await store.getHistory('bob', 'b1'))?.text).toBe('second');
    expect(await today(store, 'alice')).toMatchObject({ characters: 45, credits: 45, reserved: 0 });
  });

  it('a write failing on its own (after some of its statements ran) rejects alone; the rest of its batch commits', async () => {
    const store = openStore({ dataDir: await dataDir() });
    await store.putHistory('alice', historyItem('x', at(1), 'kept as it was', 'Robert', 16));
    const reservation = await reserve(store, 'alice', 20);
    // Replacing x with a later createdAt first takes back its audio bytes and deletes the old row, then the
    // insert fails (no voice name: NOT NULL): all of that must be undone.
    const broken = {
      ...historyItem('x', at(2), 'never stored'),
      voice: { id: 'v', name: null },
    } as unknown as HistoryItem;
    const before = store.writes.commits;
    const outcomes = await Promise.allSettled([
      store.putHistory('alice', historyItem('a1', at(3), 'stored')),
      store.putHistory('alice', broken),
      store.commitReservation(reservation, { characters: 20, credits: 10 }),
      store.putHistory('alice', { ...historyItem('bad', at(4), 'bad date'), createdAt: 'yesterday' }),
    ]);
    expect(outcomes.map((outcome) => outcome.status)).toEqual([
      'fulfilled',
      'rejected',
      'fulfilled',
      'rejected',
    ]);
    expect(reasonOf(outcomes[1])).toBeInstanceOf(StoreUnavailableError);
    expect(String(reasonOf(outcomes[1]))).toMatch(/Could not save history .*constraint failed/);
    expect(reasonOf(outcomes[3])).toBeInstanceOf(StoreInputError);
    expect(store.writes.commits - before).toBe(1);

    expect((await store.getHistory('alice', 'x'))?.text).toBe('kept as it was');
    expect((await store.getHistory('alice', 'x'))?.createdAt).toBe(at(1));
    expect((await store.getAudioUsage('alice')).bytes).toBe(16);
    expect((await store.getHistory('alice', 'a1'))?.text).toBe('stored');
    expect(await today(store, 'alice')).toMatchObject({ characters: 20, credits: 10, reserved: 0 });
  });

  it('settling one reservation twice in one batch counts it once', async () => {
    const store = openStore({ dataDir: await dataDir() });
    const reservation = await reserve(store, 'alice', 100);
    await Promise.all([
      store.commitReservation(reservation, { characters: 90, credits: 9 }),
      store.commitReservation(reservation, { characters: 90, credits: 9 }),
      store.refundReservation(reservation),
    ]);
    expect(await today(store, 'alice')).toMatchObject({ characters: 90, credits: 9, reserved: 0 });
  });

  it('a batch that cannot take the write lock rejects all its writes (StoreUnavailableError); retried, they land', async () => {
    const dir = await dataDir();
    const store = openStore({ dataDir: dir, busyTimeoutMs: 20 });
    const reservation = await reserve(store, 'alice', 40);
    const other = new DatabaseSync(join(dir, DATABASE_FILE));
    afterTest(() => other.close());
    other.exec('BEGIN IMMEDIATE'); // another process holding the write lock past the busy timeout
    const item = historyItem('a1', at(1), 'said while locked');
    const outcomes = await Promise.allSettled([
      store.putHistory('alice', item),
      store.commitReservation(reservation, { characters: 40, credits: 4 }),
    ]);
    const reasons = outcomes.map((outcome) => reasonOf(outcome) as Error);
    expect(reasons.map((reason) => reason?.constructor)).toEqual([
      StoreUnavailableError,
      StoreUnavailableError,
    ]);
    expect(reasons[0]!.message).toMatch(/^Could not save history in .*earshot\.db: database is locked\.$/);
    expect(reasons[1]!.message).toMatch(/^Could not settle a reservation in .*: database is locked\.$/);
    other.exec('ROLLBACK');

    // Nothing was kept, and the settle is not marked done: the caller's retry (writeNowOrRetry) lands it.
    expect(await store.getHistory('alice', 'a1')).toBeNull();
    expect(await today(store, 'alice')).toMatchObject({ characters: 0, reserved: 40 });
    await store.putHistory('alice', item);
    await store.commitReservation(reservation, { characters: 40, credits: 4 });
    expect((await store.getHistory('alice', 'a1'))?.text).toBe('said while locked');
    expect(await today(store, 'alice')).toMatchObject({ characters: 40, credits: 4, reserved: 0 });
  });

  it('a write that does not fit in the database rejects alone with StoreFullError; the store keeps serving', async () => {
    const dir = await dataDir();
    const setup = openStore({ dataDir: dir });
    const reservation = await reserve(setup, 'alice', 10);
    await setup.close();
    const raw = new DatabaseSync(join(dir, DATABASE_FILE));
    const pages = Number((raw.prepare('PRAGMA page_count').get() as { page_count: number }).page_count);
    raw.close();
    // Room for a few small rows, not for a long text with its trigram index. The history insert fires the
    // index's triggers, so SQLite undoes just that statement (its savepoint, then, undoes the rest of it).
    const store = openStore({ dataDir: dir, maxPageCount: pages + 10 });
    const outcomes = await Promise.allSettled([
      store.putHistory('alice', historyItem('a1', at(1), 'small')),
      store.commitReservation(reservation, { characters: 10, credits: 1 }),
      store.putHistory('alice', historyItem('big', at(2), 'long text '.repeat(20_000))),
      store.putHistory('alice', historyItem('a2', at(3), 'small too')),
    ]);
    expect(outcomes.map((outcome) => outcome.status)).toEqual([
      'fulfilled',
      'fulfilled',
      'rejected',
      'fulfilled',
    ]);
    expect(reasonOf(outcomes[2])).toBeInstanceOf(StoreFullError);
    expect(String(reasonOf(outcomes[2]))).toMatch(/full: could not save history/);
    expect(await today(store, 'alice')).toMatchObject({ characters: 10, reserved: 0 });
    await store.putHistory('alice', historyItem('a3', at(4), 'after'));
    expect((await store.listHistory('alice', { limit: 5 })).items.map((item) => item.id)).toEqual([
      'a3',
      'a2',
      'a1',
    ]);
  });

  it('close() commits the writes still queued, and refuses later ones', async () => {
    const dir = await dataDir();
    // A window far longer than the test: only close() can commit these writes.
    const store = openStore({ dataDir: dir, groupCommitWindowMs: 600_000 });
    const reservation = await reserve(store, 'alice', 10);
    const queued = Promise.all([
      store.putHistory('alice', historyItem('a1', at(1), 'said just before closing')),
      store.commitReservation(reservation, { characters: 10, credits: 1 }),
    ]);
    expect(store.writes.pending).toBe(2);
    const closedFirst = store
      .close()
      .then(nextTurn)
      .then(() => 'closed with the writes still pending');
    expect(await Promise.race([queued.then(() => 'written'), closedFirst])).toBe('written');
    await expect(store.putHistory('alice', historyItem('a2', at(2), 'too late'))).rejects.toThrow(
      /^Could not save history in .*: the store is closed\.$/,
    );

    const reopened = openStore({ dataDir: dir });
    expect((await reopened.getHistory('alice', 'a1'))?.text).toBe('said just before closing');
    expect(await today(reopened, 'alice')).toMatchObject({ characters: 10, reserved: 0 });
  });

  it('with a window, writes of successive turns share a commit; without one, each turn commits', async () => {
    const writeOverTurns = async (store: SqliteStore) => {
      const before = store.writes.commits;
      const writes: Promise<void>[] = [];
      for (let turn = 0; turn < 3; turn++) {
        writes.push(store.putHistory('alice', historyItem(`t${turn}`, at(turn), `turn ${turn}`)));
        await nextTurn();
      }
      await Promise.all(writes);
      return store.writes.commits - before;
    };
    expect(await writeOverTurns(openStore({ dataDir: await dataDir() }))).toBe(3);
    expect(await writeOverTurns(openStore({ dataDir: await dataDir(), groupCommitWindowMs: 50 }))).toBe(1);
  });
});

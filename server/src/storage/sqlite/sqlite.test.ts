import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import {
  mkdir,
  mkdtemp,
  open,
  readdir,
  readlink,
  realpath,
  rm,
  stat,
  truncate,
  utimes,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { DatabaseSync } from 'node:sqlite';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { at, historyItem, pattern } from '../../../test/support/storage-items.js';
import { StoreCorruptError, StoreFullError, StoreUnavailableError } from '../errors.js';
import { temporaryName } from './audio-files.js';
import { SHORT_SEARCH_BUDGET } from './history.js';
import { MIGRATIONS, SCHEMA_VERSION } from './schema.js';
import { SqliteStore } from './store.js';

const folders: string[] = [];
const stores: SqliteStore[] = [];
afterEach(async () => {
  await Promise.allSettled(stores.splice(0).map((store) => store.close()));
  await Promise.all(folders.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

async function dataDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'earshot-sqlite-only-'));
  folders.push(dir);
  return dir;
}

/** The pid of a process that has exited (what a kill -9 leaves in a temporary file's name). */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  await new Promise((resolve) => child.on('exit', resolve));
  return child.pid!;
}

function openStore(options: Parameters<typeof SqliteStore.open>[0]): SqliteStore {
  const store = SqliteStore.open({ maintainOnOpen: false, ...options });
  stores.push(store);
  return store;
}

describe('SQLite store', () => {
  it('creates one WAL database file and audio files readable by the owner only', async () => {
    const dir = await realpath(await dataDir());
    const store = openStore({ dataDir: dir });
    const sink = store.openAudio('alice', 'a1');
    sink.write(pattern(10));
    await sink.finish();
    expect((await stat(join(dir, 'earshot.db'))).mode & 0o777).toBe(0o600);
    expect((await stat(store.audioFilePath('alice', 'a1'))).mode & 0o777).toBe(0o600);
    const raw = new DatabaseSync(join(dir, 'earshot.db'));
    expect(raw.prepare('PRAGMA journal_mode').get()).toEqual({ journal_mode: 'wal' });
    expect(raw.prepare('PRAGMA user_version').get()).toEqual({ user_version: SCHEMA_VERSION });
    raw.close();
  });

  it('creates a clip’s file only once it has a full piece to write or ends, not at its first chunk', async () => {
    const dir = await realpath(await dataDir());
    const store = openStore({ dataDir: dir });
    const sink = store.openAudio('alice', 'short');
    sink.write(pattern(1000));
    sink.write(pattern(1000));
    await new Promise((resolve) => setTimeout(resolve, 50)); // time for a file the sink wrongly made to appear
    expect(existsSync(join(dir, 'audio', 'alice'))).toBe(false);
    expect(await sink.finish()).toBe(2000);
    expect(await readdir(join(dir, 'audio', 'alice'))).toEqual(['short.audio']);

    const long = store.openAudio('alice', 'long');
    long.write(pattern(64 * 1024));
    await vi.waitFor(async () => {
      expect((await readdir(join(dir, 'audio', 'alice'))).some((name) => name.endsWith('.tmp'))).toBe(true);
    });
    expect(await long.finish()).toBe(64 * 1024);
  });

  it('leaves no file open after clips that end without audio: aborted, or failed, before their first write', async () => {
    const dir = await realpath(await dataDir());
    const store = openStore({ dataDir: dir });
    // Only files in this store's folder: the process's other descriptors (the test runner's, other work still
    // finishing) come and go on their own.
    const openFiles = async () => {
      let count = 0;
      for (const fd of await readdir('/proc/self/fd')) {
        const target = await readlink(`/proc/self/fd/${fd}`).catch(() => '');
        if (target.startsWith(dir)) count++;
      }
      return count;
    };
    // The background integrity check reads the database on a connection of its own: counted, it comes and goes.
    await store.integrity;
    // Warm up whatever the store opens once (the database, its WAL).
    await store
      .openAudio('alice', 'warm')
      .finish()
      .catch(() => undefined);
    const before = await openFiles();
    expect(before).toBeGreaterThan(0); // the database's own files: the count sees this folder
    for (let index = 0; index < 20; index++) {
      const sink = store.openAudio('alice', `nothing-${index}`);
      sink.abort();
      await expect(sink.finish()).rejects.toMatchObject({ reason: 'aborted' });
    }
    // A leaked handle is only closed by the garbage collector, much later: it must not exist at all.
    expect(await openFiles()).toBe(before);
  });

  it('migrates a version-1 database: items stored before it are found by their cache key', async () => {
    const dir = await dataDir();
    const raw = new DatabaseSync(join(dir, 'earshot.db'));
    raw.exec(MIGRATIONS[0]!);
    raw.exec('PRAGMA user_version = 1');
    const item = { ...historyItem('before', at(1), 'cached words', 'Robert', 10), cacheKey: 'k' };
    raw
      .prepare(
        `INSERT INTO history (seq, user, id, created_at, expires_at, audio_bytes, text, voice_name, doc)
         VALUES (1, 'alice', 'before', ?, NULL, 10, 'cached words', 'Robert', ?)`,
      )
      .run(item.createdAt, JSON.stringify(item));
    raw.close();
    const store = openStore({ dataDir: dir });
    expect((await store.findCached('alice', 'k'))?.id).toBe('before');
  });

  it('migrates a version-3 database: clients registered before are kept 60 days from the upgrade, then go', async () => {
    const dir = await dataDir();
    const raw = new DatabaseSync(join(dir, 'earshot.db'));
    for (const migration of MIGRATIONS.slice(0, 3)) raw.exec(migration);
    raw.exec('PRAGMA user_version = 3');
    const client = {
      clientId: 'esc_old',
      clientName: 'Old',
      clientUri: null,
      redirectUris: [],
      createdAt: at(0),
    };
    raw
      .prepare('INSERT INTO oauth_clients (client_id, doc) VALUES (?, ?)')
      .run(client.clientId, JSON.stringify(client));
    raw.close();
    const upgraded = Date.now();
    const store = openStore({ dataDir: dir });
    const day = 86_400_000;
    expect(await store.oauth.getClient('esc_old', new Date(upgraded + 59 * day))).toEqual(client);
    expect(await store.oauth.getClient('esc_old', new Date(upgraded + 61 * day))).toBeNull();
  });

  it('migrates a version-4 database: its bookings still count and settle, its reserved counters are not counted again', async () => {
    const dir = await dataDir();
    const raw = new DatabaseSync(join(dir, 'earshot.db'));
    for (const migration of MIGRATIONS.slice(0, 4)) raw.exec(migration);
    raw.exec('PRAGMA user_version = 4');
    const now = new Date('2026-12-03T10:00:00Z');
    const day = '2026-12-03';
    const live = {
      id: 'rsv_live',
      user: 'alice',
      day,
      characters: 50,
      expiresAt: '2026-12-03T11:00:00.000Z',
    };
    const book = raw.prepare(
      'INSERT INTO reservations (id, user, day, characters, expires_at) VALUES (?, ?, ?, ?, ?)',
    );
    book.run(live.id, 'alice', day, 50, Date.parse(live.expiresAt));
    book.run('rsv_lapsed', 'alice', day, 20, now.getTime() - 1000); // its process died; its lease ran out
    // Version 4 kept the bookings' sum beside them as well.
    raw.exec(
      `INSERT INTO usage (user, day, characters, credits, reserved) VALUES ('alice', '${day}', 100, 1, 70)`,
    );
    raw.close();

    const store = openStore({ dataDir: dir });
    expect(await store.getUsage('alice', 1, now)).toEqual([
      { date: day, characters: 100, credits: 1, reserved: 70 },
    ]);
    // 100 spoken + 50 booked + 40 = 190: allowed once the lapsed booking is given back, not before.
    expect(await store.reserveBudget({ user: 'alice', characters: 40, limit: 189, at: now })).toMatchObject({
      ok: false,
      used: 150,
    });
    const fresh = await store.reserveBudget({ user: 'alice', characters: 40, limit: 190, at: now });
    expect(fresh.ok).toBe(true);
    await store.commitReservation(live, { characters: 45, credits: 2 });
    expect(await store.getUsage('alice', 1, now)).toEqual([
      { date: day, characters: 145, credits: 3, reserved: 40 },
    ]);
    if (fresh.ok) await store.refundReservation(fresh.reservation);
    expect(await store.getUsage('alice', 1, now)).toEqual([
      { date: day, characters: 145, credits: 3, reserved: 0 },
    ]);
  });

  async function damaged(damage: 'garbage' | 'truncated' | 'page'): Promise<{ dir: string; path: string }> {
    const dir = await dataDir();
    const path = join(dir, 'earshot.db');
    if (damage === 'garbage') {
      await writeFile(path, Buffer.concat([Buffer.from('not a database at all'), pattern(8192)]));
      return { dir, path };
    }
    const store = SqliteStore.open({ dataDir: dir, maintainOnOpen: false, integrityCheck: 'none' });
    for (let i = 0; i < 300; i++)
      await store.putHistory('alice', historyItem(`h${i}`, at(i), 'x'.repeat(500)));
    await store.close();
    if (damage === 'truncated') await truncate(path, 20_000);
    else {
      const handle = await open(path, 'r+');
      await handle.write(pattern(4096, 99), 0, 4096, 8 * 4096);
      await handle.close();
    }
    return { dir, path };
  }

  function openError(dir: string, integrityCheck?: 'quick'): unknown {
    try {
      openStore({ dataDir: dir, integrityCheck });
    } catch (thrown) {
      return thrown;
    }
    return undefined;
  }

  function expectCorrupt(error: unknown, path: string): void {
    expect(error).toBeInstanceOf(StoreCorruptError);
    expect((error as StoreCorruptError).path).toBe(path);
    expect((error as Error).message).toContain(path);
    expect((error as Error).message).toMatch(/move the file aside/);
  }

  it('refuses a file that is not a database, or was cut short, at open with one error naming it', async () => {
    for (const damage of ['garbage', 'truncated'] as const) {
      const { dir, path } = await damaged(damage);
      expectCorrupt(openError(dir), path);
    }
  });

  it('finds a damaged page in the background (or at open with integrityCheck: quick), then refuses every call', async () => {
    const { dir, path } = await damaged('page');
    expectCorrupt(openError(dir, 'quick'), path);
    const store = openStore({ dataDir: dir });
    const error = await store.integrity.catch((thrown: unknown) => thrown);
    expectCorrupt(error, path);
    await expect(store.getSettings('alice')).rejects.toBe(error);
    await expect(store.checkReady()).rejects.toBe(error);
  });

  it('refuses a database written by a newer Earshot', async () => {
    const dir = await dataDir();
    openStore({ dataDir: dir });
    const raw = new DatabaseSync(join(dir, 'earshot.db'));
    raw.exec('PRAGMA user_version = 99');
    raw.close();
    expect(() => openStore({ dataDir: dir })).toThrow(StoreUnavailableError);
    expect(() => openStore({ dataDir: dir })).toThrow(/schema version 99/);
  });

  it('reports a full database as StoreFullError, and keeps working for reads', async () => {
    const dir = await dataDir();
    await openStore({ dataDir: dir }).close();
    const store = openStore({ dataDir: dir, maxPageCount: 40 });
    const error = await (async () => {
      for (let i = 0; i < 1000; i++)
        await store.putHistory('alice', historyItem(`f${i}`, at(i), 'y'.repeat(2000)));
    })().catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(StoreFullError);
    await expect(store.addUsage('alice', { characters: 1, credits: 0 })).resolves.toBeUndefined();
    expect((await store.listHistory('alice', { limit: 1 })).items).toHaveLength(1);
  });

  it('cleans orphans at open: old temporary and unreferenced files go, young and referenced ones stay', async () => {
    const dir = await dataDir();
    const now = new Date('2026-06-01T12:00:00.000Z');
    const old = new Date(now.getTime() - 3_600_000);
    const first = openStore({ dataDir: dir });
    const kept = first.openAudio('alice', 'kept');
    kept.write(pattern(8));
    await kept.finish();
    await first.putHistory('alice', historyItem('kept', at(1), 'referenced', 'Robert', 8));
    await first.close();
    const audioDir = join(dir, 'audio', 'alice');
    const files = {
      kept: join(audioDir, 'kept.audio'),
      orphan: join(audioDir, 'orphan.audio'),
      temp: join(audioDir, '.crashed.123.abcd.tmp'),
      young: join(audioDir, 'young.audio'),
      youngTemp: join(audioDir, '.live.456.ef01.tmp'),
      // Young, but its writer (on this host) is gone: a kill -9 mid-speech leaves this; it goes at once.
      deadWriter: join(audioDir, temporaryName('killed', await deadPid())),
      liveWriter: join(audioDir, temporaryName('speaking', process.pid)),
    };
    await mkdir(audioDir, { recursive: true });
    for (const path of [
      files.orphan,
      files.temp,
      files.young,
      files.youngTemp,
      files.deadWriter,
      files.liveWriter,
    ])
      await writeFile(path, 'x');
    for (const path of [files.kept, files.orphan, files.temp]) await utimes(path, old, old);

    const store = SqliteStore.open({ dataDir: dir, now: () => now, orphanGraceMs: 10 * 60_000 });
    stores.push(store);
    expect(await store.maintenance).toEqual({
      expiredItems: 0,
      reclaimedReservations: 0,
      orphanFiles: 1,
      temporaryFiles: 2,
    });
    expect(Object.fromEntries(Object.entries(files).map(([name, path]) => [name, existsSync(path)]))).toEqual(
      {
        kept: true,
        orphan: false,
        temp: false,
        young: true,
        youngTemp: true,
        deadWriter: false,
        liveWriter: true,
      },
    );
  });

  it('errors a read whose file is cut while it is being read (never ends early in silence)', async () => {
    const store = openStore({ dataDir: await dataDir() });
    const size = 2 * 1024 * 1024;
    const sink = store.openAudio('alice', 'cut');
    sink.write(pattern(size));
    await sink.finish();
    await store.putHistory('alice', historyItem('cut', at(1), 'cut while read', 'Robert', size));
    const { stream } = await store.readAudio('alice', 'cut');
    const chunks = stream[Symbol.asyncIterator]();
    expect((await chunks.next()).done).toBe(false);
    await truncate(store.audioFilePath('alice', 'cut'), 1000);
    let read = 0;
    const error = await (async () => {
      for (;;) {
        const next = await chunks.next();
        if (next.done) return null;
        read += (next.value as Buffer).length;
      }
    })().catch((thrown: unknown) => thrown);
    expect(error).toMatchObject({ name: 'AudioMissingError', reason: 'short' });
    expect(read).toBeLessThan(size);
  });

  it('reads a bounded window per call for one- and two-character searches, with a cursor to go on', async () => {
    const store = openStore({ dataDir: await dataDir() });
    await store.putHistory('alice', historyItem('oldest', at(0), 'qz at the very start'));
    for (let i = 1; i <= SHORT_SEARCH_BUDGET + 5; i++)
      await store.putHistory('alice', historyItem(`n${i}`, at(i), 'plain'));
    const first = await store.listHistory('alice', { limit: 10, search: 'qz' });
    expect(first.items).toEqual([]);
    expect(first.nextCursor).not.toBeNull();
    const second = await store.listHistory('alice', { limit: 10, search: 'qz', cursor: first.nextCursor! });
    expect(second.items.map((item) => item.id)).toEqual(['oldest']);
    expect(second.nextCursor).toBeNull();
  });

  it('maintain() removes expired history with its audio', async () => {
    const dir = await realpath(await dataDir());
    const store = openStore({ dataDir: dir });
    const sink = store.openAudio('alice', 'old');
    sink.write(pattern(16));
    await sink.finish();
    await store.putHistory('alice', historyItem('old', at(1), 'expiring', 'Robert', 16), {
      expiresAt: new Date('2026-02-01T00:00:00.000Z'),
    });
    await store.putHistory('alice', historyItem('new', at(2), 'staying'));
    const report = await store.maintain(new Date('2026-02-02T00:00:00.000Z'));
    expect(report.expiredItems).toBe(1);
    expect(existsSync(store.audioFilePath('alice', 'old'))).toBe(false);
    const items = (await store.listHistory('alice', { limit: 5, now: new Date('2026-01-01T00:00:00.000Z') }))
      .items;
    expect(items.map((item) => item.id)).toEqual(['new']);
  });

  it('lets several processes open a new data folder at the same moment (none gets "database is locked")', async () => {
    const script = fileURLToPath(new URL('../../../test/support/storage-open-child.ts', import.meta.url));
    const children = Array.from({ length: 3 }, () => {
      const child = spawn(process.execPath, ['--import', 'tsx', '--conditions=@earshot/source', script], {
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      const lines = createInterface({ input: child.stdout });
      const next = () => new Promise<string>((resolve) => lines.once('line', resolve));
      return { child, waiting: next(), next };
    });
    // Switching a new file to WAL from two processes at once made one fail at once, about one round in
    // four with two processes: three processes, told to open together, eight rounds.
    for (const { waiting } of children) expect(await waiting).toBe('waiting');
    for (let round = 0; round < 8; round++) {
      const dir = await dataDir();
      const answers = children.map(({ next }) => next());
      for (const { child } of children) child.stdin.write(`${dir}\n`);
      expect(await Promise.all(answers)).toEqual(['opened', 'opened', 'opened']);
    }
    for (const { child } of children) child.stdin.end();
  });

  it('changeMark() moves when another connection or process commits, not when this one does', async () => {
    const dir = await dataDir();
    const store = openStore({ dataDir: dir, integrityCheck: 'none' });
    const mark = store.changeMark();
    await store.patchSettings('alice', { autoPlay: false });
    await store.addUsage('alice', { characters: 1, credits: 1 });
    expect(store.changeMark()).toBe(mark);

    await openStore({ dataDir: dir, integrityCheck: 'none' }).patchSettings('alice', { autoPlay: true });
    const afterConnection = store.changeMark();
    expect(afterConnection).not.toBe(mark);
    expect(store.changeMark()).toBe(afterConnection);

    // Another OS process writing the file with plain SQLite (as the earshot CLI would, through its own store).
    const write = `const db = new (require('node:sqlite').DatabaseSync)(process.argv[1]);
      db.exec('PRAGMA busy_timeout = 5000');
      db.prepare("INSERT INTO meta (key, value) VALUES ('other', 'x')").run();
      db.close();`;
    const child = spawn(process.execPath, ['-e', write, join(dir, 'earshot.db')], { stdio: 'inherit' });
    expect(await new Promise((resolve) => child.on('exit', resolve))).toBe(0);
    expect(store.changeMark()).not.toBe(afterConnection);
  });

  it('keeps two OS processes on one data folder consistent', async () => {
    const dir = await dataDir();
    await openStore({ dataDir: dir }).close();
    const script = fileURLToPath(new URL('../../../test/support/storage-child.ts', import.meta.url));
    const children = ['p1', 'p2'].map((label) => {
      const child = spawn(
        process.execPath,
        ['--import', 'tsx', '--conditions=@earshot/source', script, dir, label],
        {
          stdio: ['pipe', 'pipe', 'pipe'],
        },
      );
      let errors = '';
      child.stderr.on('data', (data: Buffer) => (errors += data.toString()));
      const lines = createInterface({ input: child.stdout });
      const ready = new Promise<void>((resolve) => lines.once('line', () => resolve()));
      const result = new Promise<{ reserved: number }>((resolve, reject) => {
        lines.on('line', (line) => line.startsWith('{') && resolve(JSON.parse(line) as { reserved: number }));
        child.on('exit', (code) => reject(new Error(`${label} exited with ${code}: ${errors}`)));
      });
      return { child, ready, result };
    });
    await Promise.all(children.map((child) => child.ready));
    for (const { child } of children) child.stdin.write('go\n');
    const results = await Promise.all(children.map((child) => child.result));

    const store = openStore({ dataDir: dir });
    const [usage] = await store.getUsage('shared', 1, new Date('2026-03-10T12:00:00.000Z'));
    expect(usage).toMatchObject({ characters: 400, credits: 400 });
    expect((await store.listHistory('shared', { limit: 100 })).items).toHaveLength(40);
    expect(results.reduce((sum, result) => sum + result.reserved, 0)).toBe(30);
  });
});

// The local store's life as an operator sees it, with real `earshot serve` processes: kill -9 in the middle
// of a speech and start again, the first start on a data folder of the old JSON layout, a damaged
// database, and `earshot store init` / `earshot doctor`.
import { existsSync } from 'node:fs';
import { mkdtemp, open, readdir, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { HistoryItem, UserSettings } from '@earshot/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectOneClearMessage, runCli } from './support/cli.js';
import { EarshotProcess, KEYS, KEYS_ENV } from './support/earshot-process.js';
import { writeLegacyFolder } from './support/legacy-folder.js';
import { connectPlayer } from './support/player.js';
import { SqliteStore } from '../src/storage/index.js';
import { at, historyItem, pattern } from './support/storage-items.js';

const LONG = Array.from(
  { length: 20 },
  (_, i) => `Sentence ${i + 1} of a long report that keeps the voice busy while the server is killed.`,
).join(' ');
const DAMAGED =
  /^The Earshot database (\S+earshot\.db) is damaged \(.+\)\. Stop every Earshot process using it, move the file aside \(with its -wal and -shm files\), and start again/;

const folders: string[] = [];
async function dataDir(label: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), `earshot-${label}-`));
  folders.push(dir);
  return dir;
}
afterAll(async () => {
  await Promise.all(folders.map((dir) => rm(dir, { recursive: true, force: true })));
});

/** Resolves once `condition` holds, checking after every turn of the event loop (bounded). */
async function until(condition: () => Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms: ${what}`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

describe('kill -9 in the middle of a speech', () => {
  it('restarts with the completed history intact and no orphan audio; the killed speech left no trace but its booking', async () => {
    const dir = await dataDir('kill9');
    const env = { EARSHOT_DATA_DIR: dir };
    const audioDir = join(dir, 'audio', 'alice');
    const first = await EarshotProcess.start(env);
    const done = await first.api<{ id: string; characters: number }>('POST', '/api/v1/speak', {
      text: 'Finished before the crash.',
    });
    expect(done.status).toBe(200);

    const player = await connectPlayer(first.url, KEYS.alice);
    const cut = first.api('POST', '/api/v1/speak', { text: LONG }).catch(() => 'connection cut');
    const start = await player.waitFor('speech.start', (m) => m.text === LONG, 30_000);
    await until(async () => player.audioOf(start.id).length > 0, 'audio reached the player');
    // Its audio is being written under a temporary name.
    await until(
      async () => (await readdir(audioDir)).some((name) => name.endsWith('.tmp')),
      'the temporary audio file',
    );
    await first.kill9();
    expect(await cut).toBe('connection cut');
    await player.close();

    const second = await EarshotProcess.start(env);
    try {
      const maintenance = await second.waitForLog(/^store maintenance done$/);
      expect(maintenance).toMatchObject({ temporaryFiles: 1, orphanFiles: 0 });
      expect(await readdir(audioDir)).toEqual([`${done.body.id}.audio`]);
      const items = await second.history();
      expect(items.map((item) => [item.id, item.status])).toEqual([[done.body.id, 'completed']]);
      const audio = await second.api<unknown>('GET', `/api/v1/history/${done.body.id}`);
      const bytes = (audio.body as HistoryItem).audio!.bytes;
      const download = await fetch(`${second.url}/api/v1/history/${done.body.id}/audio`, {
        headers: { authorization: `Bearer ${KEYS.alice}` },
      });
      // The stored Ogg Opus, byte for byte as long as recorded.
      expect((await download.arrayBuffer()).byteLength).toBe(bytes);
      // Usage counts what completed; the killed speech's booking holds until its lease runs out (never
      // less budget used than was spent).
      expect(await second.usageToday()).toMatchObject({
        characters: done.body.characters,
        reserved: LONG.length,
      });
      expect((await second.speak('Back after the crash.')).status).toBe(200);
    } finally {
      await second.stop();
    }
  });
});

describe('first start on a data folder of the old JSON layout', () => {
  it('imports it once, logs what it imported, and keeps the old files', async () => {
    const dir = await dataDir('legacy');
    const fixture = await writeLegacyFolder(dir);
    const server = await EarshotProcess.start({ EARSHOT_DATA_DIR: dir });
    try {
      const line = await server.waitForLog(/^imported \d+ history items/);
      expect(line.msg).toMatch(
        /^imported 4 history items \(3 with audio\), 1 settings and 2 usage days of 2 users from the JSON files of an earlier Earshot into \S+earshot\.db; the old files are kept .*; 1 unreadable files skipped$/,
      );
      expect(line).toMatchObject({
        historyItems: 4,
        audioFiles: 3,
        skipped: ['users/bob/history/broken.json'],
      });
      expect((await server.history()).map((item) => item.id)).toEqual(['old2', 'old1', 'old0']);
      const bob = await server.history('bob');
      expect(bob.map((item) => [item.id, item.audio])).toEqual([['nofile', null]]);
      const download = await fetch(`${server.url}/api/v1/history/old1/audio`, {
        headers: { authorization: `Bearer ${KEYS.alice}` },
      });
      expect(
        Buffer.from(await download.arrayBuffer())
          .subarray(44)
          .equals(pattern(101)),
      ).toBe(true);
      const settings = await server.api<UserSettings>('GET', '/api/v1/settings');
      expect(settings.body).toMatchObject({
        defaultVoice: 'robert',
        autoPlay: false,
        voiceSettings: { speed: 1.1 },
      });
      for (const item of fixture.items.alice!) {
        expect(existsSync(join(dir, 'users', 'alice', 'history', `${item.id}.json`))).toBe(true);
        expect(existsSync(join(dir, 'users', 'alice', 'audio', `${item.id}.pcm`))).toBe(true);
      }
    } finally {
      await server.stop();
    }
    // Once only: a second start imports nothing.
    const again = await EarshotProcess.start({ EARSHOT_DATA_DIR: dir });
    await again.waitForLog(/^store maintenance done$/);
    expect(again.logs().some((line) => /^imported/.test(line.msg ?? ''))).toBe(false);
    expect(await again.history()).toHaveLength(3);
    await again.stop();
  });
});

describe('a damaged database', () => {
  let garbage: string;
  let cutShort: string;
  beforeAll(async () => {
    garbage = await dataDir('garbage');
    await writeFile(
      join(garbage, 'earshot.db'),
      'this is not a database, whatever it once was. '.repeat(200),
    );
    cutShort = await dataDir('cut');
    const server = await EarshotProcess.start({ EARSHOT_DATA_DIR: cutShort });
    for (let i = 0; i < 5; i++)
      expect((await server.speak(`Filling the database, part ${i}.`)).status).toBe(200);
    expect(await server.stop()).toBe(0);
    await truncate(join(cutShort, 'earshot.db'), 4096);
  });

  it.each([
    ['not a database at all', () => garbage],
    ['cut short', () => cutShort],
  ])(
    '%s: the server refuses to start with one line naming the file and how to recover',
    async (_name, dir) => {
      const result = await runCli(['serve'], { ...KEYS_ENV, PORT: '0', EARSHOT_DATA_DIR: dir() });
      expect(result.code).toBe(1);
      expectOneClearMessage(result);
      expect(result.stderr.trim().split('\n')).toHaveLength(1);
      expect(DAMAGED.exec(result.stderr)?.[1]).toBe(join(dir(), 'earshot.db'));
    },
  );

  it('damage found after start (a bad page): logged once with the file, then every call says how to recover', async () => {
    const dir = await dataDir('page');
    const path = join(dir, 'earshot.db');
    const store = SqliteStore.open({ dataDir: dir, maintainOnOpen: false, integrityCheck: 'none' });
    for (let i = 0; i < 300; i++)
      await store.putHistory('alice', historyItem(`h${i}`, at(i), 'x'.repeat(500)));
    await store.close();
    const handle = await open(path, 'r+');
    await handle.write(pattern(4096, 99), 0, 4096, 8 * 4096);
    await handle.close();

    const server = await EarshotProcess.start({ EARSHOT_DATA_DIR: dir });
    try {
      const line = await server.waitForLog(/is damaged/);
      expect(line.msg).toMatch(DAMAGED);
      const history = await server.api<{ error: { code: string; message: string } }>(
        'GET',
        '/api/v1/history',
      );
      expect(history.status).toBe(503);
      expect(history.body.error).toMatchObject({
        code: 'store_unavailable',
        message: expect.stringMatching(
          /database is damaged\. The operator must stop Earshot, move the database file aside/,
        ),
      });
      const ready = await fetch(`${server.url}/readyz`);
      expect([ready.status, await ready.json()]).toEqual([
        503,
        { status: 'not_ready', reason: 'store_corrupt' },
      ]);
      expect((await server.speak('Not on a damaged database.')).status).toBe(503);
    } finally {
      await server.stop();
    }
  });

  it('earshot doctor finds it too, and says how to recover', async () => {
    const result = await runCli(['doctor'], { ...KEYS_ENV, PORT: '0', EARSHOT_DATA_DIR: garbage });
    expect(result.code).toBe(1);
    const line = result.stdout.split('\n').find((text) => text.includes('Store:'));
    expect(line).toMatch(
      /^FAIL {2}Store: The Earshot database \S+earshot\.db is damaged .* move the file aside/,
    );
  });
});

describe('earshot store init on SQLite', () => {
  it('creates and checks the database, imports an old JSON folder once, and doctor then finds it fine', async () => {
    const dir = await dataDir('init');
    await writeLegacyFolder(dir);
    const env = { ...KEYS_ENV, EARSHOT_DATA_DIR: dir };
    const init = await runCli(['store', 'init'], env);
    expect(init).toMatchObject({ code: 0, stderr: '' });
    expect(init.stdout).toBe(
      `SQLite store ready: ${join(dir, 'earshot.db')} (checked, schema up to date)\n` +
        'imported from old JSON files: 4 history items (3 with audio), 1 settings, 2 usage days of 2 users; ' +
        'the old files are kept; skipped (unreadable): users/bob/history/broken.json\n',
    );
    expect((await runCli(['store', 'init'], env)).stdout).toMatch(/\nold JSON files: imported before\n$/);
    const doctor = await runCli(['doctor'], { ...env, PORT: '0' });
    expect(doctor.stdout).toMatch(/^ok {4}Store: \S+earshot\.db: intact \(quick_check\) and writable$/m);
    const usage = await runCli(['store', 'bogus'], env);
    expect(usage).toMatchObject({ code: 2, stdout: '' });
    expect(usage.stderr).toMatch(/^Usage: earshot store init/);
  });
});

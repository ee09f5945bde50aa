import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_SETTINGS } from '@earshot/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { writeLegacyFolder } from '../../test/support/legacy-folder.js';
import { pattern, readAll } from '../../test/support/storage-items.js';
import { importLegacyData } from './legacy-import.js';
import { SqliteStore } from './sqlite/store.js';

const folders: string[] = [];
afterEach(async () => {
  await Promise.all(folders.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

/** A data folder in the JSON layout of the old file store. */
async function legacyFolder(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'earshot-legacy-'));
  folders.push(dir);
  await writeLegacyFolder(dir);
  return dir;
}

describe('legacy import', () => {
  it('imports a JSON data folder once, keeping the old files', async () => {
    const dir = await legacyFolder();
    const store = SqliteStore.open({ dataDir: dir, maintainOnOpen: false });
    try {
      const report = await importLegacyData(store);
      expect(report).toEqual({
        alreadyImported: false,
        users: 2,
        settings: 1,
        historyItems: 4,
        audioFiles: 3,
        usageDays: 2,
        skipped: ['users/bob/history/broken.json'],
      });
      expect(await store.getSettings('alice')).toEqual({
        ...DEFAULT_SETTINGS,
        defaultVoice: 'robert',
        autoPlay: false,
        voiceSettings: { speed: 1.1 },
      });
      expect((await store.listHistory('alice', { limit: 10 })).items.map((item) => item.id)).toEqual([
        'old2',
        'old1',
        'old0',
      ]);
      expect((await readAll((await store.readAudio('alice', 'old1')).stream)).equals(pattern(101))).toBe(
        true,
      );
      // An item whose audio file is gone comes over without audio, never with a dead link.
      expect((await store.getHistory('bob', 'nofile'))?.audio).toBeNull();
      expect(await store.getUsage('alice', 1, new Date('2026-01-05T23:00:00.000Z'))).toEqual([
        { date: '2026-01-05', characters: 120, credits: 12, reserved: 0 },
      ]);
      expect(existsSync(join(dir, 'users', 'alice', 'history', 'old0.json'))).toBe(true);
      expect(existsSync(join(dir, 'users', 'alice', 'audio', 'old0.pcm'))).toBe(true);

      const again = await importLegacyData(store);
      expect(again.alreadyImported).toBe(true);
      expect((await store.getUsage('alice', 1, new Date('2026-01-05T23:00:00.000Z')))[0]!.characters).toBe(
        120,
      );
    } finally {
      await store.close();
    }
  });

  it('marks an empty folder as imported too', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'earshot-legacy-empty-'));
    folders.push(dir);
    const store = SqliteStore.open({ dataDir: dir, maintainOnOpen: false });
    expect(await importLegacyData(store)).toMatchObject({
      alreadyImported: false,
      users: 0,
      historyItems: 0,
    });
    expect((await importLegacyData(store)).alreadyImported).toBe(true);
    await store.close();
  });
});

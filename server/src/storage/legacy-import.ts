/**
 * Imports a data folder in the JSON layout Earshot used before SQLite — `users/<user>/settings.json`,
 * `history/<id>.json`, `audio/<id>.pcm`, `usage.json` — into the SQLite store, once. The old files are kept
 * (delete them by hand once satisfied). Re-running is safe: settings and history are upserts, audio files
 * are replaced whole, and usage is added in the same transaction that sets the "imported" mark.
 */
import { copyFile, readFile, readdir, rename, rm, stat, mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { HistoryItem, UserSettings } from '@earshot/protocol';

import { fileError } from './errors.js';
import { HISTORY_ID, USER_NAME } from './shared.js';
import type { SqliteStore } from './sqlite/store.js';

export const LEGACY_IMPORT_MARK = 'legacy_import';

export interface LegacyImportReport {
  /** True when an earlier run already imported (nothing was done now). */
  readonly alreadyImported: boolean;
  readonly users: number;
  readonly settings: number;
  readonly historyItems: number;
  readonly audioFiles: number;
  readonly usageDays: number;
  /** Files that could not be read or parsed, relative to the folder (they are left where they are). */
  readonly skipped: string[];
}

type UsageFile = Record<string, { characters?: number; credits?: number }>;

export async function importLegacyData(
  store: SqliteStore,
  legacyDir = store.dataDir,
): Promise<LegacyImportReport> {
  const report = {
    alreadyImported: false,
    users: 0,
    settings: 0,
    historyItems: 0,
    audioFiles: 0,
    usageDays: 0,
    skipped: [] as string[],
  };
  if (store.readMeta(LEGACY_IMPORT_MARK) !== null) return { ...report, alreadyImported: true };
  const usage: { user: string; day: string; characters: number; credits: number }[] = [];
  const usersDir = join(legacyDir, 'users');
  for (const user of await list(usersDir)) {
    if (!USER_NAME.test(user)) continue;
    report.users++;
    const dir = join(usersDir, user);
    const readJson = async <T>(relative: string): Promise<T | null> => {
      try {
        return JSON.parse(await readFile(join(dir, relative), 'utf8')) as T;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT')
          report.skipped.push(`users/${user}/${relative}`);
        return null;
      }
    };

    const settings = await readJson<Partial<UserSettings>>('settings.json');
    if (settings && typeof settings === 'object') {
      await store.patchSettings(user, settings);
      report.settings++;
    }

    for (const file of await list(join(dir, 'history'))) {
      if (!file.endsWith('.json')) continue;
      const item = await readJson<HistoryItem>(`history/${file}`);
      if (
        !item ||
        typeof item.id !== 'string' ||
        !HISTORY_ID.test(item.id) ||
        typeof item.createdAt !== 'string'
      ) {
        if (item) report.skipped.push(`users/${user}/history/${file}`);
        continue;
      }
      let audio = item.audio;
      if (audio) {
        // Audio first, then the row: the row never points at a file that is not there.
        const copied = await copyAudio(
          join(dir, 'audio', `${item.id}.pcm`),
          store.audioFilePath(user, item.id),
          audio.bytes,
        );
        if (copied) report.audioFiles++;
        else audio = null;
      }
      await store.putHistory(user, { ...item, audio });
      report.historyItems++;
    }

    const days = (await readJson<UsageFile>('usage.json')) ?? {};
    for (const [day, value] of Object.entries(days)) {
      if (!/^\d{4}-\d{2}-\d{2}$/.test(day)) continue;
      usage.push({
        user,
        day,
        characters: Number(value?.characters ?? 0) || 0,
        credits: Number(value?.credits ?? 0) || 0,
      });
    }
  }
  const summary = {
    ...report,
    alreadyImported: undefined,
    usageDays: usage.length,
    at: new Date().toISOString(),
  };
  if (!store.addUsageOnce(LEGACY_IMPORT_MARK, JSON.stringify(summary), usage))
    return { ...report, alreadyImported: true };
  return { ...report, usageDays: usage.length };
}

/** Copies a complete old audio file under a temporary name, then renames; false when missing or short. */
async function copyAudio(from: string, to: string, bytes: number): Promise<boolean> {
  const size = await stat(from).then(
    (info) => info.size,
    () => -1,
  );
  if (size < bytes) return false;
  const temp = `${to}.import.tmp`;
  try {
    await mkdir(dirname(to), { recursive: true, mode: 0o700 });
    await copyFile(from, temp);
    await rename(temp, to);
    return true;
  } catch (error) {
    await rm(temp, { force: true }).catch(() => undefined);
    throw fileError(error, `copy ${from} into the new store`);
  }
}

async function list(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).sort();
  } catch (error) {
    if (
      (error as NodeJS.ErrnoException).code === 'ENOTDIR' ||
      (error as NodeJS.ErrnoException).code === 'ENOENT'
    )
      return [];
    throw fileError(error, `list ${dir}`);
  }
}

/**
 * A data folder in the JSON layout Earshot used before SQLite, written file by file as the old store wrote
 * it: `users/<user>/settings.json`, `history/<id>.json`, `audio/<id>.pcm` (raw PCM) and `usage.json`
 * (`{ "YYYY-MM-DD": { characters, credits } }`), JSON indented by two spaces.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DEFAULT_SETTINGS, type HistoryItem } from '@earshot/protocol';
import { at, historyItem, pattern } from './storage-items.js';

export interface LegacyFixture {
  /** Users with files, and what the import should find. */
  readonly users: readonly string[];
  readonly items: Readonly<Record<string, readonly HistoryItem[]>>;
}

async function writeJson(path: string, value: unknown): Promise<void> {
  await mkdir(join(path, '..'), { recursive: true });
  await writeFile(path, JSON.stringify(value, null, 2), { mode: 0o600 });
}

/**
 * alice: settings, three items with audio, usage on one day; bob: one item whose audio file is gone, usage,
 * and one truncated history file (skipped by the import).
 */
export async function writeLegacyFolder(dir: string): Promise<LegacyFixture> {
  const alice = join(dir, 'users', 'alice');
  const bob = join(dir, 'users', 'bob');
  await writeJson(join(alice, 'settings.json'), {
    ...DEFAULT_SETTINGS,
    defaultVoice: 'robert',
    autoPlay: false,
    voiceSettings: { speed: 1.1 },
  });
  const aliceItems: HistoryItem[] = [];
  for (let i = 0; i < 3; i++) {
    const item = historyItem(`old${i}`, at(i), `legacy speech ${i}`, 'Robert', 100 + i);
    await mkdir(join(alice, 'audio'), { recursive: true });
    await writeFile(join(alice, 'audio', `${item.id}.pcm`), pattern(100 + i), { mode: 0o600 });
    await writeJson(join(alice, 'history', `${item.id}.json`), item);
    aliceItems.push(item);
  }
  await writeJson(join(alice, 'usage.json'), { '2026-01-05': { characters: 120, credits: 12 } });
  const lost = historyItem('nofile', at(5), 'audio was lost', 'Alice', 50);
  await writeJson(join(bob, 'history', 'nofile.json'), lost);
  await writeJson(join(bob, 'usage.json'), { '2026-01-06': { characters: 7, credits: 1 } });
  await writeFile(join(bob, 'history', 'broken.json'), '{"id": "bro');
  return { users: ['alice', 'bob'], items: { alice: aliceItems, bob: [lost] } };
}

import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { access, mkdir, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { DEFAULT_SETTINGS, type HistoryItem, type UserSettings } from '@earshot/protocol';
import { HISTORY_ID as ID, USER_NAME as USER, queryHistory } from './shared.js';
import type { AudioSink, HistoryQuery, DailyUsage, Store } from './types.js';

/** Audio waiting to be written past this means the disk cannot keep up: stop keeping this clip. */
const MAX_PENDING_AUDIO_BYTES = 16 * 1024 * 1024;

/**
 * Files under the data directory: `users/<user>/settings.json`, `history/<id>.json`, `audio/<id>.pcm`,
 * `usage.json`. History of each user is indexed in memory on first use.
 */
export class LocalStore implements Store {
  readonly kind = 'local' as const;
  private readonly historyIndex = new Map<string, Promise<Map<string, HistoryItem>>>();
  private readonly writes = new Map<string, Promise<void>>();

  constructor(private readonly dir: string) {}

  async getSettings(user: string): Promise<UserSettings> {
    const saved = await readJson<Partial<UserSettings>>(join(this.userDir(user), 'settings.json'));
    return { ...DEFAULT_SETTINGS, ...saved };
  }

  putSettings(user: string, settings: UserSettings): Promise<void> {
    return this.atomicWrite(join(this.userDir(user), 'settings.json'), settings);
  }

  async putHistory(user: string, item: HistoryItem): Promise<void> {
    checkId(item.id);
    await this.atomicWrite(join(this.userDir(user), 'history', `${item.id}.json`), item);
    (await this.index(user)).set(item.id, item);
  }

  async listHistory(user: string, query: HistoryQuery): Promise<HistoryItem[]> {
    return queryHistory((await this.index(user)).values(), query);
  }

  async getHistory(user: string, id: string): Promise<HistoryItem | null> {
    if (!ID.test(id)) return null;
    return (await this.index(user)).get(id) ?? null;
  }

  async deleteHistory(user: string, id: string): Promise<boolean> {
    if (!ID.test(id)) return false;
    const index = await this.index(user);
    if (!index.delete(id)) return false;
    await rm(join(this.userDir(user), 'history', `${id}.json`), { force: true });
    await rm(join(this.userDir(user), 'audio', `${id}.pcm`), { force: true });
    return true;
  }

  openAudio(user: string, id: string): AudioSink {
    checkId(id);
    const dir = join(this.userDir(user), 'audio');
    const path = join(dir, `${id}.pcm`);
    let stream: WriteStream | undefined;
    let failed = false;
    let bytes = 0;
    // Chunks that arrive before the file is open wait here, then go to the file in order.
    const early: Uint8Array[] = [];
    let earlyBytes = 0;
    const ready = mkdir(dir, { recursive: true }).then(
      () => {
        const opened = createWriteStream(path, { flags: 'w', mode: 0o600 });
        opened.on('error', () => (failed = true));
        for (const chunk of early.splice(0)) opened.write(chunk);
        stream = opened;
        return opened;
      },
      () => {
        failed = true;
        return undefined;
      },
    );
    return {
      write(chunk) {
        if (failed) return;
        bytes += chunk.byteLength;
        if (stream) {
          // fs streams queue internally; drop this clip rather than grow memory if the disk stalls.
          if (stream.writableLength > MAX_PENDING_AUDIO_BYTES) failed = true;
          else stream.write(chunk);
          return;
        }
        earlyBytes += chunk.byteLength;
        if (earlyBytes > MAX_PENDING_AUDIO_BYTES) failed = true;
        else early.push(Buffer.from(chunk));
      },
      async finish() {
        const target = await ready;
        if (!target || failed) {
          target?.destroy();
          await rm(path, { force: true });
          return null;
        }
        await new Promise<void>((resolve) => target.end(resolve));
        return failed ? null : bytes;
      },
      abort() {
        failed = true;
        void ready.then((target) => {
          target?.destroy();
          return rm(path, { force: true });
        });
      },
    };
  }

  async readAudio(user: string, id: string): Promise<Readable | null> {
    if (!ID.test(id)) return null;
    const path = join(this.userDir(user), 'audio', `${id}.pcm`);
    try {
      await access(path);
    } catch {
      return null;
    }
    return createReadStream(path);
  }

  async addUsage(user: string, characters: number, credits: number, at = new Date()): Promise<void> {
    const path = join(this.userDir(user), 'usage.json');
    await this.serialised(path, async () => {
      const usage = (await readJson<Record<string, { characters: number; credits: number }>>(path)) ?? {};
      const date = at.toISOString().slice(0, 10);
      const day = usage[date] ?? { characters: 0, credits: 0 };
      usage[date] = { characters: day.characters + characters, credits: day.credits + credits };
      await writeJsonAtomically(path, usage);
    });
  }

  async getUsage(user: string, days: number): Promise<DailyUsage[]> {
    const usage =
      (await readJson<Record<string, { characters: number; credits: number }>>(
        join(this.userDir(user), 'usage.json'),
      )) ?? {};
    const result: DailyUsage[] = [];
    for (let i = days - 1; i >= 0; i--) {
      const date = new Date(Date.now() - i * 86_400_000).toISOString().slice(0, 10);
      result.push({ date, characters: usage[date]?.characters ?? 0, credits: usage[date]?.credits ?? 0 });
    }
    return result;
  }

  async checkReady(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    await access(this.dir);
  }

  async close(): Promise<void> {
    await Promise.allSettled(this.writes.values());
  }

  private userDir(user: string): string {
    if (!USER.test(user)) throw new Error(`invalid user name for storage: ${JSON.stringify(user)}`);
    return join(this.dir, 'users', user);
  }

  private index(user: string): Promise<Map<string, HistoryItem>> {
    let index = this.historyIndex.get(user);
    if (!index) {
      index = this.loadIndex(user);
      this.historyIndex.set(user, index);
    }
    return index;
  }

  private async loadIndex(user: string): Promise<Map<string, HistoryItem>> {
    const dir = join(this.userDir(user), 'history');
    const index = new Map<string, HistoryItem>();
    const files = await readdir(dir).catch(() => [] as string[]);
    for (const file of files.filter((name) => name.endsWith('.json'))) {
      const item = await readJson<HistoryItem>(join(dir, file));
      if (item && ID.test(item.id)) index.set(item.id, item);
    }
    return index;
  }

  private atomicWrite(path: string, value: unknown): Promise<void> {
    return this.serialised(path, () => writeJsonAtomically(path, value));
  }

  /** Runs writes to one path one after another (read-modify-write of usage, settings saves). */
  private serialised(path: string, work: () => Promise<void>): Promise<void> {
    const previous = this.writes.get(path) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(work);
    this.writes.set(path, next);
    void next
      .finally(() => {
        if (this.writes.get(path) === next) this.writes.delete(path);
      })
      .catch(() => undefined);
    return next;
  }
}

function checkId(id: string): void {
  if (!ID.test(id)) throw new Error(`invalid history id ${JSON.stringify(id)}`);
}

/** Write to a temporary file and rename, so a crash never leaves half a JSON file behind. */
async function writeJsonAtomically(path: string, value: unknown): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, JSON.stringify(value, null, 2), { mode: 0o600 });
  await rename(temporary, path);
}

async function readJson<T>(path: string): Promise<T | null> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as T;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

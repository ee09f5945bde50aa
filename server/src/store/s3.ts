import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadBucketCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { DEFAULT_SETTINGS, type HistoryItem, type UserSettings } from '@earshot/protocol';
import { HISTORY_ID as ID, USER_NAME as USER, queryHistory } from './shared.js';
import type { AudioSink, HistoryQuery, DailyUsage, Store } from './types.js';

/** A clip past this is not kept (the same bound as the local store): it would only grow memory. */
const MAX_AUDIO_BYTES = 16 * 1024 * 1024;
/** PutObject attempts for one clip (each attempt also has the SDK's own retries). */
const AUDIO_UPLOAD_ATTEMPTS = 4;
/** How long `close()` waits for clips still uploading. */
const CLOSE_TIMEOUT_MS = 10_000;
/** GetObject calls in flight while a user's history index loads. */
const LOAD_CONCURRENCY = 8;

type UsageFile = Record<string, { characters: number; credits: number }>;

export interface S3StoreOptions {
  readonly bucket: string;
  /** Key prefix without slashes at either end; '' for the bucket root. */
  readonly prefix: string;
  /** Defaults to `S3Store.clientFromEnv()`; a client passed in is not destroyed by `close()`. */
  readonly client?: S3Client;
  /** First back-off between audio upload attempts (doubles each time). */
  readonly retryDelayMs?: number;
}

/**
 * Objects under `s3://bucket/prefix/`: `users/<user>/settings.json`, `users/<user>/history/<id>.json`,
 * `users/<user>/usage.json`, and audio at `audio/<user>/<id>.pcm` (where the lifecycle rule expires it).
 *
 * Each user's history is listed from S3 once per process and then kept in memory, like the local store.
 * Several tasks may serve the same user: an item another task writes after this one loaded its index is not
 * listed here until the process restarts (acceptable: history is a convenience, the objects are all there).
 * Usage is read-modify-write, serialised per user within the process only; two tasks updating the same user
 * in the same instant can lose one increment.
 */
export class S3Store implements Store {
  readonly kind = 's3' as const;
  private readonly client: S3Client;
  private readonly ownsClient: boolean;
  private readonly bucket: string;
  private readonly prefix: string;
  private readonly retryDelayMs: number;
  private readonly historyIndex = new Map<string, Promise<Map<string, HistoryItem>>>();
  private readonly writes = new Map<string, Promise<void>>();
  private readonly uploads = new Set<Promise<unknown>>();

  constructor(options: S3StoreOptions) {
    this.bucket = options.bucket;
    this.prefix = options.prefix.replace(/^\/+|\/+$/g, '');
    this.ownsClient = !options.client;
    this.client = options.client ?? S3Store.clientFromEnv();
    this.retryDelayMs = options.retryDelayMs ?? 250;
  }

  /**
   * A client for production: the SDK's default credential chain and region. When `AWS_ENDPOINT_URL_S3` or
   * `AWS_ENDPOINT_URL` names an endpoint (MinIO, s3rver, LocalStack) it is used with path-style addressing.
   */
  static clientFromEnv(env: NodeJS.ProcessEnv = process.env): S3Client {
    const endpoint = env.AWS_ENDPOINT_URL_S3 || env.AWS_ENDPOINT_URL;
    return new S3Client({
      requestHandler: { connectionTimeout: 5_000, requestTimeout: 30_000 },
      ...(endpoint ? { endpoint, forcePathStyle: true } : {}),
    });
  }

  async getSettings(user: string): Promise<UserSettings> {
    const saved = await this.getJson<Partial<UserSettings>>(this.key(user, 'settings.json'));
    return { ...DEFAULT_SETTINGS, ...saved };
  }

  putSettings(user: string, settings: UserSettings): Promise<void> {
    const key = this.key(user, 'settings.json');
    return this.serialised(key, () => this.putJson(key, settings));
  }

  async putHistory(user: string, item: HistoryItem): Promise<void> {
    checkId(item.id);
    const key = this.key(user, 'history', `${item.id}.json`);
    await this.serialised(key, () => this.putJson(key, item));
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
    if (!index.has(id)) return false;
    const result = await this.client.send(
      new DeleteObjectsCommand({
        Bucket: this.bucket,
        Delete: {
          Objects: [{ Key: this.key(user, 'history', `${id}.json`) }, { Key: this.audioKey(user, id) }],
          Quiet: true,
        },
      }),
    );
    if (result.Errors?.length) {
      const first = result.Errors[0]!;
      throw new Error(`S3 could not delete ${first.Key ?? '?'}: ${first.Code ?? ''} ${first.Message ?? ''}`);
    }
    index.delete(id);
    return true;
  }

  /**
   * Collects the clip in memory (never waiting on S3) and uploads it once in `finish()`, retrying with
   * back-off; resolves null if it never got stored. A clip over 16 MiB is dropped rather than kept.
   */
  openAudio(user: string, id: string): AudioSink {
    checkId(id);
    const key = this.audioKey(user, id);
    let chunks: Buffer[] = [];
    let bytes = 0;
    let dropped = false;
    let aborted = false;
    let finishing: Promise<number | null> | undefined;
    const upload = async (): Promise<number | null> => {
      if (dropped || aborted) return null;
      const body = Buffer.concat(chunks, bytes);
      chunks = [];
      for (let attempt = 1; attempt <= AUDIO_UPLOAD_ATTEMPTS && !aborted; attempt++) {
        try {
          await this.client.send(
            new PutObjectCommand({
              Bucket: this.bucket,
              Key: key,
              Body: body,
              ContentType: 'application/octet-stream',
            }),
          );
          if (aborted) {
            await this.deleteQuietly(key);
            return null;
          }
          return bytes;
        } catch {
          if (attempt < AUDIO_UPLOAD_ATTEMPTS && !aborted)
            await sleep(this.retryDelayMs * 2 ** (attempt - 1));
        }
      }
      return null;
    };
    return {
      write(chunk) {
        if (dropped || aborted || finishing) return;
        bytes += chunk.byteLength;
        if (bytes > MAX_AUDIO_BYTES) {
          dropped = true;
          chunks = [];
          return;
        }
        // Copy: the caller may reuse its buffer once write returns.
        chunks.push(Buffer.from(chunk));
      },
      finish: () => {
        if (!finishing) {
          finishing = upload().catch(() => null);
          this.track(finishing);
        }
        return finishing;
      },
      abort() {
        aborted = true;
        chunks = [];
      },
    };
  }

  async readAudio(user: string, id: string): Promise<Readable | null> {
    if (!ID.test(id)) return null;
    try {
      const object = await this.client.send(
        new GetObjectCommand({ Bucket: this.bucket, Key: this.audioKey(user, id) }),
      );
      const body = object.Body;
      if (!body) return null;
      return body instanceof Readable ? body : Readable.from(await body.transformToByteArray());
    } catch (error) {
      if (isNotFound(error)) return null;
      throw error;
    }
  }

  async addUsage(user: string, characters: number, credits: number, at = new Date()): Promise<void> {
    const key = this.key(user, 'usage.json');
    await this.serialised(key, async () => {
      const usage = (await this.getJson<UsageFile>(key)) ?? {};
      const date = at.toISOString().slice(0, 10);
      const day = usage[date] ?? { characters: 0, credits: 0 };
      usage[date] = { characters: day.characters + characters, credits: day.credits + credits };
      await this.putJson(key, usage);
    });
  }

  async getUsage(user: string, days: number): Promise<DailyUsage[]> {
    const usage = (await this.getJson<UsageFile>(this.key(user, 'usage.json'))) ?? {};
    const result: DailyUsage[] = [];
    for (let i = days - 1; i >= 0; i--) {
      const date = new Date(Date.now() - i * 86_400_000).toISOString().slice(0, 10);
      result.push({ date, characters: usage[date]?.characters ?? 0, credits: usage[date]?.credits ?? 0 });
    }
    return result;
  }

  async checkReady(): Promise<void> {
    await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }));
  }

  async close(): Promise<void> {
    const pending = Promise.allSettled([...this.uploads, ...this.writes.values()]);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, CLOSE_TIMEOUT_MS);
      timer.unref();
    });
    await Promise.race([pending, timeout]);
    clearTimeout(timer);
    if (this.ownsClient) this.client.destroy();
  }

  /**
   * `<prefix>/audio/<user>/<id>.pcm`, not under `users/<user>/`: the bucket's lifecycle rule (infra
   * data-store.ts, `ExpireOldAudio`) expires the literal prefix `<prefix>/audio/`, and S3 lifecycle filters
   * are plain prefixes, so audio under `users/<user>/audio/` would never expire.
   */
  private audioKey(user: string, id: string): string {
    checkUser(user);
    return [this.prefix, 'audio', user, `${id}.pcm`].filter((part) => part !== '').join('/');
  }

  private key(user: string, ...parts: string[]): string {
    checkUser(user);
    return [this.prefix, 'users', user, ...parts].filter((part) => part !== '').join('/');
  }

  private index(user: string): Promise<Map<string, HistoryItem>> {
    let index = this.historyIndex.get(user);
    if (!index) {
      index = this.loadIndex(user);
      this.historyIndex.set(user, index);
      // A failed load (S3 unreachable) is not cached: the next call tries again.
      index.catch(() => {
        if (this.historyIndex.get(user) === index) this.historyIndex.delete(user);
      });
    }
    return index;
  }

  private async loadIndex(user: string): Promise<Map<string, HistoryItem>> {
    const prefix = this.key(user, 'history') + '/';
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const page = await this.client.send(
        new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ContinuationToken: token }),
      );
      for (const object of page.Contents ?? []) if (object.Key?.endsWith('.json')) keys.push(object.Key);
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    const index = new Map<string, HistoryItem>();
    for (let i = 0; i < keys.length; i += LOAD_CONCURRENCY) {
      const items = await Promise.all(
        keys.slice(i, i + LOAD_CONCURRENCY).map((key) => this.getJson<HistoryItem>(key)),
      );
      for (const item of items)
        if (item && typeof item.id === 'string' && ID.test(item.id)) index.set(item.id, item);
    }
    return index;
  }

  private async getJson<T>(key: string): Promise<T | null> {
    try {
      const object = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      const text = await object.Body?.transformToString('utf8');
      return text === undefined ? null : (JSON.parse(text) as T);
    } catch (error) {
      if (isNotFound(error)) return null;
      throw error;
    }
  }

  private async putJson(key: string, value: unknown): Promise<void> {
    await this.client.send(
      new PutObjectCommand({
        Bucket: this.bucket,
        Key: key,
        Body: JSON.stringify(value, null, 2),
        ContentType: 'application/json',
      }),
    );
  }

  private async deleteQuietly(key: string): Promise<void> {
    await this.client
      .send(
        new DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects: [{ Key: key }], Quiet: true } }),
      )
      .catch(() => undefined);
  }

  private track(work: Promise<unknown>): void {
    this.uploads.add(work);
    void work.finally(() => this.uploads.delete(work));
  }

  /** Runs writes to one key one after another (read-modify-write of usage, settings saves). */
  private serialised(key: string, work: () => Promise<void>): Promise<void> {
    const previous = this.writes.get(key) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(work);
    this.writes.set(key, next);
    void next
      .finally(() => {
        if (this.writes.get(key) === next) this.writes.delete(key);
      })
      .catch(() => undefined);
    return next;
  }
}

function checkUser(user: string): void {
  if (!USER.test(user)) throw new Error(`invalid user name for storage: ${JSON.stringify(user)}`);
}

function checkId(id: string): void {
  if (!ID.test(id)) throw new Error(`invalid history id ${JSON.stringify(id)}`);
}

function isNotFound(error: unknown): boolean {
  const e = error as { name?: string; $metadata?: { httpStatusCode?: number } } | null;
  // Not 404 in general: NoSuchBucket is a fault to report, not an empty store.
  return e?.name === 'NoSuchKey' || (e?.name === 'NotFound' && e.$metadata?.httpStatusCode === 404);
}

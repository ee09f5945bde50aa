/**
 * The AWS store: one on-demand DynamoDB table (layout in table-definition.ts) and audio in S3. Every task
 * reads and writes the same items with strongly consistent reads, so history, settings and usage are shared
 * at once; counters use atomic `ADD`, the budget one conditional UpdateItem (usage.ts), settings one
 * attribute per field (settings.ts).
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { DeleteCommand, DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { HistoryItem, UserSettings } from '@earshot/protocol';
import type {
  AudioSink,
  AudioSinkOptions,
  BudgetDecision,
  BudgetRequest,
  DailyUsage,
  HistoryPage,
  HistoryQuery,
  MaintenanceReport,
  PutHistoryOptions,
  Reservation,
  SettingsPatch,
  Store,
  StoredAudio,
  StoredHistoryItem,
  UsageAmount,
} from '../contract.js';
import { AudioMissingError } from '../errors.js';
import {
  DEFAULT_MAX_AUDIO_BYTES,
  DEFAULT_RESERVATION_LEASE_MS,
  HISTORY_ID,
  NO_EXPIRY_DAY,
  cacheKeyOf,
  checkId,
  checkUser,
  expiryDay,
  utcDay,
} from '../shared.js';
import { DynamoOAuth } from './oauth.js';
import { queryHistory, toItem, type HistoryRecord } from './history-query.js';
import { S3Audio, type S3Location } from './s3-audio.js';
import { patchSettings, readSettings } from './settings.js';
import { TableClient, pk } from './table-client.js';
import { DynamoUsage } from './usage.js';

export interface DynamoStoreOptions {
  readonly table: string;
  readonly audio: S3Location;
  /** Default: clients from the environment (`clientsFromEnv`); clients passed in are not destroyed by close(). */
  readonly dynamodb?: DynamoDBClient;
  readonly s3?: S3Client;
  readonly reservationLeaseMs?: number;
  /** checkReady writes to S3 at most this often (default 5 min); DynamoDB is written every time. */
  readonly s3ProbeIntervalMs?: number;
  readonly now?: () => Date;
}

/**
 * Clients with the SDK's default credential chain and region. The SDK itself reads `AWS_ENDPOINT_URL_DYNAMODB`
 * and `AWS_ENDPOINT_URL_S3` (or `AWS_ENDPOINT_URL`); with such an endpoint S3 uses path-style addressing,
 * which MinIO, s3rver and LocalStack need.
 */
export function clientsFromEnv(env: NodeJS.ProcessEnv = process.env): {
  dynamodb: DynamoDBClient;
  s3: S3Client;
} {
  const requestHandler = { connectionTimeout: 3_000, requestTimeout: 10_000 };
  return {
    dynamodb: new DynamoDBClient({ requestHandler }),
    s3: new S3Client({
      requestHandler,
      forcePathStyle: Boolean(env.AWS_ENDPOINT_URL_S3 || env.AWS_ENDPOINT_URL),
    }),
  };
}

export class DynamoStore implements Store {
  readonly backend = 'dynamodb' as const;
  readonly oauth: DynamoOAuth;
  private readonly table: TableClient;
  private readonly usage: DynamoUsage;
  private readonly audio: S3Audio;
  private readonly owned: { destroy(): void }[] = [];
  private readonly now: () => Date;

  constructor(private readonly options: DynamoStoreOptions) {
    const fromEnv = !options.dynamodb || !options.s3 ? clientsFromEnv() : undefined;
    const dynamodb = options.dynamodb ?? fromEnv!.dynamodb;
    const s3 = options.s3 ?? fromEnv!.s3;
    if (!options.dynamodb) this.owned.push(dynamodb);
    else fromEnv?.dynamodb.destroy();
    if (!options.s3) this.owned.push(s3);
    else fromEnv?.s3.destroy();
    const doc = DynamoDBDocumentClient.from(dynamodb, { marshallOptions: { removeUndefinedValues: true } });
    this.table = new TableClient(doc, options.table);
    this.usage = new DynamoUsage(this.table, options.reservationLeaseMs ?? DEFAULT_RESERVATION_LEASE_MS);
    this.audio = new S3Audio(s3, {
      bucket: options.audio.bucket,
      prefix: options.audio.prefix.replace(/^\/+|\/+$/g, ''),
    });
    this.now = options.now ?? (() => new Date());
    this.oauth = new DynamoOAuth(this.table, this.now);
  }

  getSettings(user: string): Promise<UserSettings> {
    return readSettings(this.table, user);
  }

  patchSettings(user: string, patch: SettingsPatch): Promise<UserSettings> {
    return patchSettings(this.table, user, patch);
  }

  async putHistory(user: string, item: HistoryItem, options: PutHistoryOptions = {}): Promise<void> {
    checkId(item.id);
    const exp = options.expiresAt ? options.expiresAt.getTime() : undefined;
    const record: HistoryRecord = {
      PK: pk(user),
      SK: `h#${item.id}`,
      ts: `${item.createdAt}#${item.id}`,
      doc: JSON.stringify(item),
      q: `${item.text}\n${item.voice.name}`.toLowerCase(),
      audioBytes: item.audio?.bytes,
      exp,
      ttl: exp === undefined ? undefined : Math.ceil(exp / 1000),
    };
    const { doc, table } = this.table;
    const result = await this.table.call('save history', () =>
      doc.send(new PutCommand({ TableName: table, Item: record, ReturnValues: 'ALL_OLD' })),
    );
    // Two writes, not a transaction (dynalite has none): a crash between them leaves the quota count off
    // by one clip, never history or audio.
    const old = result.Attributes as HistoryRecord | undefined;
    if (old?.audioBytes) await this.countAudio(user, old.exp, -old.audioBytes);
    if (record.audioBytes) await this.countAudio(user, exp, record.audioBytes);
    const cacheKey = cacheKeyOf(item);
    if (cacheKey) {
      // A pointer, checked against the item when read: deleting or replacing the item needs no cleanup.
      await this.table.call('save history', () =>
        doc.send(
          new PutCommand({
            TableName: table,
            Item: { PK: pk(user), SK: `c#${cacheKey}`, id: item.id, ttl: record.ttl },
          }),
        ),
      );
    }
  }

  async findCached(user: string, cacheKey: string, now = this.now()): Promise<StoredHistoryItem | null> {
    const pointer = await this.table.get('look up stored audio', { PK: pk(user), SK: `c#${cacheKey}` });
    if (typeof pointer?.id !== 'string') return null;
    const record = await this.readHistory(user, pointer.id, now);
    if (!record) return null;
    const item = toItem(record);
    return cacheKeyOf(item) === cacheKey ? item : null;
  }

  async getHistory(user: string, id: string, now = this.now()): Promise<StoredHistoryItem | null> {
    const record = await this.readHistory(user, id, now);
    return record ? toItem(record) : null;
  }

  async deleteHistory(user: string, id: string): Promise<boolean> {
    checkUser(user);
    if (!HISTORY_ID.test(id)) return false;
    const { doc, table } = this.table;
    const result = await this.table.call('delete history', () =>
      doc.send(
        new DeleteCommand({
          TableName: table,
          Key: { PK: pk(user), SK: `h#${id}` },
          ReturnValues: 'ALL_OLD',
        }),
      ),
    );
    const old = result.Attributes as HistoryRecord | undefined;
    if (!old) return false;
    if (old.audioBytes) {
      await this.countAudio(user, old.exp, -old.audioBytes);
      // The item is gone; an object S3 would not delete now is unreachable and the lifecycle rule expires it.
      await this.audio.remove(user, id).catch(() => undefined);
    }
    return true;
  }

  async listHistory(user: string, query: HistoryQuery): Promise<HistoryPage> {
    checkUser(user);
    const now = (query.now ?? this.now()).getTime();
    return this.table.call('list history', () =>
      queryHistory(this.table.doc, this.table.table, pk(user), query, now),
    );
  }

  addUsage(user: string, amount: UsageAmount, at = this.now()): Promise<void> {
    return this.usage.add(user, amount, at);
  }

  getUsage(user: string, days: number, now = this.now()): Promise<DailyUsage[]> {
    return this.usage.days(user, days, now);
  }

  reserveBudget(request: BudgetRequest): Promise<BudgetDecision> {
    return this.usage.reserve(request, request.at ?? this.now());
  }

  commitReservation(reservation: Reservation, actual: UsageAmount): Promise<void> {
    return this.usage.commit(reservation, actual);
  }

  refundReservation(reservation: Reservation): Promise<void> {
    return this.usage.refund(reservation);
  }

  openAudio(user: string, id: string, options: AudioSinkOptions = {}): AudioSink {
    checkUser(user);
    checkId(id);
    return this.audio.openSink(user, id, options.maxBytes ?? DEFAULT_MAX_AUDIO_BYTES);
  }

  async readAudio(user: string, id: string): Promise<StoredAudio> {
    const record = HISTORY_ID.test(id) ? await this.readHistory(user, id, this.now()) : null;
    if (!record) throw new AudioMissingError('no_item', `No history item ${JSON.stringify(id)}.`);
    if (record.audioBytes === undefined) {
      throw new AudioMissingError('no_audio', `History item ${id} has no stored audio.`);
    }
    return this.audio.read(user, id, record.audioBytes);
  }

  async getAudioUsage(user: string, now = this.now()): Promise<{ bytes: number }> {
    const rows = await this.table.range('read audio usage', user, `a#${utcDay(now)}`, `a#${NO_EXPIRY_DAY}`);
    return { bytes: rows.reduce((sum, row) => sum + Number(row.bytes ?? 0), 0) };
  }

  async maintain(): Promise<MaintenanceReport> {
    // TTL removes expired items, the bucket's lifecycle rule old audio, reserveBudget stale bookings.
    return { expiredItems: 0, orphanFiles: 0, temporaryFiles: 0, reclaimedReservations: 0 };
  }

  async checkReady(): Promise<void> {
    const now = this.now();
    await this.table.update('write the readiness mark', {
      Key: { PK: 'meta', SK: 'ready' },
      UpdateExpression: 'SET checkedAt = :at',
      ExpressionAttributeValues: { ':at': now.toISOString() },
    });
    await this.audio.probe(now.getTime(), this.options.s3ProbeIntervalMs ?? 5 * 60_000);
  }

  async close(): Promise<void> {
    await this.audio.drain();
    for (const client of this.owned.splice(0)) client.destroy();
  }

  private async readHistory(user: string, id: string, now: Date): Promise<HistoryRecord | null> {
    if (!HISTORY_ID.test(id)) return null;
    const record = (await this.table.get('read history', { PK: pk(user), SK: `h#${id}` })) as
      HistoryRecord | undefined;
    // TTL deletes within days, not at the second: an expired item is hidden until then.
    if (!record || (record.exp !== undefined && record.exp <= now.getTime())) return null;
    return record;
  }

  private async countAudio(user: string, expiresAt: number | undefined, bytes: number): Promise<void> {
    await this.table.update('count audio bytes', {
      Key: { PK: pk(user), SK: `a#${expiryDay(expiresAt ?? null)}` },
      UpdateExpression: 'ADD bytes :b',
      ExpressionAttributeValues: { ':b': bytes },
    });
  }
}

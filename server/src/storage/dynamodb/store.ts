/**
 * The AWS store: one on-demand DynamoDB table (layout in table-definition.ts) and audio in S3. Every task
 * reads and writes the same items, so history, settings and usage are shared at once; counters use atomic
 * `ADD`, the budget a conditional UpdateItem on one item, settings one attribute per field.
 */
import { randomBytes } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import {
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
  type UpdateCommandInput,
} from '@aws-sdk/lib-dynamodb';
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
import { AudioMissingError, StoreInputError } from '../errors.js';
import {
  DEFAULT_MAX_AUDIO_BYTES,
  DEFAULT_RESERVATION_LEASE_MS,
  HISTORY_ID,
  NO_EXPIRY_DAY,
  checkAmount,
  checkId,
  checkUser,
  expiryDay,
  lastDays,
  utcDay,
  withDefaults,
} from '../shared.js';
import { awsError, isConditionFailure } from './aws-errors.js';
import { queryHistory, toItem, type HistoryRecord } from './history-query.js';
import { S3Audio, type S3Location } from './s3-audio.js';

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

const SETTING_NAME = /^[sv]_[A-Za-z][A-Za-z0-9_]{0,63}$/;

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
  private readonly doc: DynamoDBDocumentClient;
  private readonly audio: S3Audio;
  private readonly owned: { destroy(): void }[] = [];
  private readonly now: () => Date;
  private readonly table: string;
  private readonly settled = new WeakSet<Reservation>();

  constructor(private readonly options: DynamoStoreOptions) {
    const fromEnv = !options.dynamodb || !options.s3 ? clientsFromEnv() : undefined;
    const dynamodb = options.dynamodb ?? fromEnv!.dynamodb;
    const s3 = options.s3 ?? fromEnv!.s3;
    if (!options.dynamodb) this.owned.push(dynamodb);
    else fromEnv?.dynamodb.destroy();
    if (!options.s3) this.owned.push(s3);
    else fromEnv?.s3.destroy();
    this.doc = DynamoDBDocumentClient.from(dynamodb, { marshallOptions: { removeUndefinedValues: true } });
    this.audio = new S3Audio(s3, {
      bucket: options.audio.bucket,
      prefix: options.audio.prefix.replace(/^\/+|\/+$/g, ''),
    });
    this.table = options.table;
    this.now = options.now ?? (() => new Date());
  }

  async getSettings(user: string): Promise<UserSettings> {
    return this.readSettings(user);
  }

  /**
   * One UpdateItem that SETs only the patched fields (each top-level field and each voice setting is its own
   * attribute), so concurrent patches of different fields never overwrite each other and never retry.
   */
  async patchSettings(user: string, patch: SettingsPatch): Promise<UserSettings> {
    const names: Record<string, string> = {};
    const values: Record<string, string> = {};
    const sets: string[] = [];
    const set = (attribute: string, value: unknown) => {
      if (!SETTING_NAME.test(attribute))
        throw new StoreInputError(`invalid settings field ${JSON.stringify(attribute)}`);
      const n = sets.length;
      names[`#f${n}`] = attribute;
      values[`:v${n}`] = JSON.stringify(value);
      sets.push(`#f${n} = :v${n}`);
    };
    for (const [field, value] of Object.entries(patch)) {
      if (value !== undefined && field !== 'voiceSettings') set(`s_${field}`, value);
    }
    for (const [field, value] of Object.entries(patch.voiceSettings ?? {})) {
      if (value !== undefined) set(`v_${field}`, value);
    }
    if (sets.length === 0) return this.getSettings(user);
    const result = await this.call('save settings', () =>
      this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { PK: pk(user), SK: 'settings' },
          UpdateExpression: `SET ${sets.join(', ')}`,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          ReturnValues: 'ALL_NEW',
        }),
      ),
    );
    return settingsFrom(result.Attributes);
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
    const result = await this.call('save history', () =>
      this.doc.send(new PutCommand({ TableName: this.table, Item: record, ReturnValues: 'ALL_OLD' })),
    );
    const old = result.Attributes as HistoryRecord | undefined;
    if (old?.audioBytes) await this.countAudio(user, old.exp, -old.audioBytes);
    if (record.audioBytes) await this.countAudio(user, exp, record.audioBytes);
  }

  async getHistory(user: string, id: string, now = this.now()): Promise<StoredHistoryItem | null> {
    const record = await this.readHistory(user, id, now);
    return record ? toItem(record) : null;
  }

  async deleteHistory(user: string, id: string): Promise<boolean> {
    checkUser(user);
    if (!HISTORY_ID.test(id)) return false;
    const result = await this.call('delete history', () =>
      this.doc.send(
        new DeleteCommand({
          TableName: this.table,
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
    return this.call('list history', () => queryHistory(this.doc, this.table, pk(user), query, now));
  }

  async addUsage(user: string, amount: UsageAmount, at = this.now()): Promise<void> {
    checkAmount('characters', amount.characters);
    checkAmount('credits', amount.credits);
    await this.update('record usage', {
      Key: { PK: pk(user), SK: `d#${utcDay(at)}` },
      UpdateExpression: 'ADD chars :c, credits :cr, booked :c',
      ExpressionAttributeValues: { ':c': amount.characters, ':cr': amount.credits },
    });
  }

  async getUsage(user: string, days: number, now = this.now()): Promise<DailyUsage[]> {
    checkUser(user);
    const dates = lastDays(days, now);
    const rows = await this.queryRange('read usage', user, `d#${dates[0]}`, `d#${dates[dates.length - 1]}`);
    const byDay = new Map(rows.map((row) => [String(row.SK).slice(2), row]));
    return dates.map((date) => {
      const row = byDay.get(date);
      const characters = Number(row?.chars ?? 0);
      return {
        date,
        characters,
        credits: Number(row?.credits ?? 0),
        reserved: Number(row?.booked ?? 0) - characters,
      };
    });
  }

  async reserveBudget(request: BudgetRequest): Promise<BudgetDecision> {
    const { user, characters, limit } = request;
    checkUser(user);
    checkAmount('characters', characters);
    const at = request.at ?? this.now();
    const day = utcDay(at);
    const reservation: Reservation = {
      id: `rsv_${randomBytes(9).toString('base64url')}`,
      user,
      day,
      characters,
      expiresAt: new Date(
        at.getTime() + (this.options.reservationLeaseMs ?? DEFAULT_RESERVATION_LEASE_MS),
      ).toISOString(),
    };
    if (limit !== null && characters > limit) return { ok: false, used: await this.booked(user, day), limit };
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        await this.doc.send(
          new UpdateCommand({
            TableName: this.table,
            Key: { PK: pk(user), SK: `d#${day}` },
            UpdateExpression: 'SET #r = :entry ADD booked :n',
            ConditionExpression:
              limit === null ? undefined : 'attribute_not_exists(booked) OR booked <= :max',
            ExpressionAttributeNames: { '#r': `r_${reservation.id}` },
            ExpressionAttributeValues: {
              ':entry': { n: characters, exp: Date.parse(reservation.expiresAt) },
              ':n': characters,
              ...(limit === null ? {} : { ':max': limit - characters }),
            },
          }),
        );
        return { ok: true, reservation };
      } catch (error) {
        if (!isConditionFailure(error)) throw awsError(error, 'reserve the daily budget');
      }
      // Refused: give back bookings whose lease ran out (a crashed task's), then try once more.
      if ((await this.reclaim(user, day, at.getTime())) === 0) break;
    }
    return { ok: false, used: await this.booked(user, day), limit: limit ?? 0 };
  }

  async commitReservation(reservation: Reservation, actual: UsageAmount): Promise<void> {
    checkAmount('characters', actual.characters);
    checkAmount('credits', actual.credits);
    if (this.settled.has(reservation)) return;
    const key = { PK: pk(reservation.user), SK: `d#${reservation.day}` };
    const values = { ':c': actual.characters, ':cr': actual.credits };
    const held = await this.takeReservation(reservation, 'ADD chars :c, credits :cr, booked :delta', {
      ...values,
      ':delta': actual.characters - reservation.characters,
    });
    // Reclaimed after its lease: its booking is gone already, only what was spent remains to add.
    if (!held)
      await this.update('record usage', {
        Key: key,
        UpdateExpression: 'ADD chars :c, credits :cr, booked :c',
        ExpressionAttributeValues: values,
      });
    this.settled.add(reservation);
  }

  async refundReservation(reservation: Reservation): Promise<void> {
    if (this.settled.has(reservation)) return;
    await this.takeReservation(reservation, 'ADD booked :minus', { ':minus': -reservation.characters });
    this.settled.add(reservation);
  }

  openAudio(user: string, id: string, options: AudioSinkOptions = {}): AudioSink {
    checkUser(user);
    checkId(id);
    return this.audio.openSink(user, id, options.maxBytes ?? DEFAULT_MAX_AUDIO_BYTES);
  }

  async readAudio(user: string, id: string): Promise<StoredAudio> {
    const record = HISTORY_ID.test(id) ? await this.readHistory(user, id, this.now()) : null;
    if (!record) throw new AudioMissingError('no_item', `No history item ${JSON.stringify(id)}.`);
    if (record.audioBytes === undefined)
      throw new AudioMissingError('no_audio', `History item ${id} has no stored audio.`);
    return this.audio.read(user, id, record.audioBytes);
  }

  async getAudioUsage(user: string, now = this.now()): Promise<{ bytes: number }> {
    checkUser(user);
    const rows = await this.queryRange('read audio usage', user, `a#${utcDay(now)}`, `a#${NO_EXPIRY_DAY}`);
    return { bytes: rows.reduce((sum, row) => sum + Number(row.bytes ?? 0), 0) };
  }

  async maintain(): Promise<MaintenanceReport> {
    // TTL removes expired items, the bucket's lifecycle rule old audio, reserveBudget stale bookings.
    return { expiredItems: 0, orphanFiles: 0, temporaryFiles: 0, reclaimedReservations: 0 };
  }

  async checkReady(): Promise<void> {
    const now = this.now();
    await this.update('write the readiness mark', {
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

  private async readSettings(user: string): Promise<UserSettings> {
    checkUser(user);
    const result = await this.call('read settings', () =>
      this.doc.send(
        new GetCommand({
          TableName: this.table,
          Key: { PK: pk(user), SK: 'settings' },
          ConsistentRead: true,
        }),
      ),
    );
    return settingsFrom(result.Item);
  }

  private async readHistory(user: string, id: string, now: Date): Promise<HistoryRecord | null> {
    checkUser(user);
    if (!HISTORY_ID.test(id)) return null;
    const result = await this.call('read history', () =>
      this.doc.send(
        new GetCommand({ TableName: this.table, Key: { PK: pk(user), SK: `h#${id}` }, ConsistentRead: true }),
      ),
    );
    const record = result.Item as HistoryRecord | undefined;
    // TTL deletes within days, not at the second: an expired item is hidden until then.
    if (!record || (record.exp !== undefined && record.exp <= now.getTime())) return null;
    return record;
  }

  /** Removes the reservation's attribute and applies `change` in one conditional write; false if it was gone. */
  private async takeReservation(
    reservation: Reservation,
    change: string,
    values: Record<string, number>,
  ): Promise<boolean> {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { PK: pk(reservation.user), SK: `d#${reservation.day}` },
          UpdateExpression: `REMOVE #r ${change}`,
          ConditionExpression: 'attribute_exists(#r)',
          ExpressionAttributeNames: { '#r': `r_${reservation.id}` },
          ExpressionAttributeValues: values,
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw awsError(error, 'settle a reservation');
    }
  }

  /** Gives back the day's bookings whose lease expired; each is taken by exactly one caller. */
  private async reclaim(user: string, day: string, now: number): Promise<number> {
    const result = await this.call('read usage', () =>
      this.doc.send(
        new GetCommand({
          TableName: this.table,
          Key: { PK: pk(user), SK: `d#${day}` },
          ConsistentRead: true,
        }),
      ),
    );
    let reclaimed = 0;
    for (const [name, value] of Object.entries(result.Item ?? {})) {
      const entry = value as { n?: number; exp?: number };
      if (!name.startsWith('r_') || entry.exp === undefined || entry.exp > now) continue;
      const stale: Reservation = {
        id: name.slice(2),
        user,
        day,
        characters: Number(entry.n ?? 0),
        expiresAt: '',
      };
      if (await this.takeReservation(stale, 'ADD booked :minus', { ':minus': -stale.characters }))
        reclaimed++;
    }
    return reclaimed;
  }

  private async booked(user: string, day: string): Promise<number> {
    const result = await this.call('read usage', () =>
      this.doc.send(
        new GetCommand({
          TableName: this.table,
          Key: { PK: pk(user), SK: `d#${day}` },
          ConsistentRead: true,
        }),
      ),
    );
    return Number(result.Item?.booked ?? 0);
  }

  private async countAudio(user: string, expiresAt: number | undefined, bytes: number): Promise<void> {
    await this.update('count audio bytes', {
      Key: { PK: pk(user), SK: `a#${expiryDay(expiresAt ?? null)}` },
      UpdateExpression: 'ADD bytes :b',
      ExpressionAttributeValues: { ':b': bytes },
    });
  }

  private async queryRange(
    what: string,
    user: string,
    from: string,
    to: string,
  ): Promise<Record<string, unknown>[]> {
    const items: Record<string, unknown>[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.call(what, () =>
        this.doc.send(
          new QueryCommand({
            TableName: this.table,
            KeyConditionExpression: 'PK = :pk AND SK BETWEEN :from AND :to',
            ExpressionAttributeValues: { ':pk': pk(user), ':from': from, ':to': to },
            ConsistentRead: true,
            ExclusiveStartKey: startKey,
          }),
        ),
      );
      items.push(...(page.Items ?? []));
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return items;
  }

  private async update(what: string, input: Omit<UpdateCommandInput, 'TableName'>): Promise<void> {
    await this.call(what, () => this.doc.send(new UpdateCommand({ TableName: this.table, ...input })));
  }

  private async call<T>(what: string, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      throw awsError(error, what);
    }
  }
}

/** Settings from their attributes (`s_<field>`, `v_<voice setting>`, JSON values) over the defaults. */
function settingsFrom(attributes: Record<string, unknown> | undefined): UserSettings {
  const saved: Record<string, unknown> = {};
  const voiceSettings: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(attributes ?? {})) {
    if (typeof value !== 'string') continue;
    if (name.startsWith('s_')) saved[name.slice(2)] = JSON.parse(value);
    else if (name.startsWith('v_')) voiceSettings[name.slice(2)] = JSON.parse(value);
  }
  return withDefaults({ ...saved, voiceSettings } as Partial<UserSettings>);
}

function pk(user: string): string {
  checkUser(user);
  return `u#${user}`;
}

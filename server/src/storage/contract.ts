import type { Readable } from 'node:stream';
import type { HistoryItem, UserSettings, VoiceSettings } from '@earshot/protocol';
import type { OAuthStore } from './oauth-contract.js';

export type * from './oauth-contract.js';

/**
 * The one store contract: settings, history, usage with the daily budget, and audio. Two backends implement
 * it — SQLite (+ audio files) on a laptop, DynamoDB (+ S3 audio) on AWS — and one contract suite runs
 * against both. Every method is safe to call from several processes (tasks) at once on the same data.
 *
 * Failures callers act on are typed (`errors.ts`): `StoreUnavailableError`, `StoreFullError`,
 * `StoreCorruptError`, `AudioMissingError`, `AudioNotKeptError`, `StoreInputError`.
 * `now` arguments exist so tests never wait for the clock; callers leave them out.
 */
export interface Store {
  readonly backend: 'sqlite' | 'dynamodb';
  /** OAuth clients, pending requests, grants, codes and token hashes (oauth-contract.ts). */
  readonly oauth: OAuthStore;

  /** The saved settings over `DEFAULT_SETTINGS` (fields added later get their defaults). */
  getSettings(user: string): Promise<UserSettings>;
  /** Applies `patch` atomically and returns the result: two writers never lose each other's fields. */
  patchSettings(user: string, patch: SettingsPatch): Promise<UserSettings>;
  /**
   * Optional: a value that changes whenever another connection or process may have changed the data since
   * it was last taken. Changes made through this store object do not change it (the caller knows of those).
   * Synchronous and cheap: a cache asks it when a hit is past its TTL. Missing (undefined capability):
   * unknown — callers fall back to expiring what they cached. SQLite has it (`PRAGMA data_version`);
   * DynamoDB does not.
   */
  changeMark?(): number;

  /** Inserts or replaces the item (same id). Write it only after its audio sink finished. */
  putHistory(user: string, item: HistoryItem, options?: PutHistoryOptions): Promise<void>;
  /** null when there is none, or it has expired. */
  getHistory(user: string, id: string, now?: Date): Promise<StoredHistoryItem | null>;
  /** Deletes the item and its audio; false when there was none. */
  deleteHistory(user: string, id: string): Promise<boolean>;
  /**
   * Newest first by createdAt (items created in the same millisecond in an order fixed per backend), without
   * expired items; page on with `nextCursor`.
   */
  listHistory(user: string, query: HistoryQuery): Promise<HistoryPage>;
  /**
   * An unexpired item stored with this `cacheKey` that completed with audio, so an identical request can
   * replay it for free: the newest such item, or null. After the newest one is deleted or expires a backend
   * may answer null although older ones remain (a cache miss costs a generation, never a wrong answer).
   * One indexed lookup, whatever the size of the history.
   */
  findCached(user: string, cacheKey: string, now?: Date): Promise<StoredHistoryItem | null>;

  /** Adds spending that was not reserved (sound effects, voice design) to the day of `at`. */
  addUsage(user: string, amount: UsageAmount, at?: Date): Promise<void>;
  /** One entry per UTC day, oldest first, ending with the day of `now`; days without use are zeros. */
  getUsage(user: string, days: number, now?: Date): Promise<DailyUsage[]>;
  /**
   * Books `characters` against `limit` for the UTC day of `at`, atomically across processes: the booking
   * succeeds only if used + reserved + characters ≤ limit (`limit` null: no ceiling, still booked).
   * Reservations left by a crashed process are reclaimed after their lease expires.
   */
  reserveBudget(request: BudgetRequest): Promise<BudgetDecision>;
  /** Turns a reservation into usage with what was really spent (may differ from the reservation). */
  commitReservation(reservation: Reservation, actual: UsageAmount): Promise<void>;
  /** Gives a reservation back (the speech failed before spending). Committing or refunding twice is a no-op. */
  refundReservation(reservation: Reservation): Promise<void>;

  /**
   * A sink for one clip. `write` never waits on storage (it queues); the clip is written under a temporary
   * name and appears under its final name only when `finish` resolves. Nothing refers to it until the
   * caller puts the history item with `audio.bytes` = the resolved byte count.
   */
  openAudio(user: string, id: string, options?: AudioSinkOptions): AudioSink;
  /** The audio of a history item with its exact length; `AudioMissingError` when missing or short. */
  readAudio(user: string, id: string): Promise<StoredAudio>;
  /**
   * Bytes of audio held by the user's unexpired history items (for a per-user quota). Counted per expiry
   * day: an item that expires today still counts until UTC midnight.
   */
  getAudioUsage(user: string, now?: Date): Promise<{ readonly bytes: number }>;

  /**
   * Housekeeping, safe to run in several processes: removes expired history and its audio, temporary and
   * unreferenced audio files older than the grace period, and reclaims expired reservations.
   * (DynamoDB: TTL and the S3 lifecycle rule do this; it returns zeros.)
   */
  maintain(now?: Date): Promise<MaintenanceReport>;
  /** Proves the store can write now (for /readyz); throws the StoreError that says why not. */
  checkReady(): Promise<void>;
  /** Waits for audio still being written, then releases the database/clients. */
  close(): Promise<void>;
}

/** Fields to change; `undefined` leaves a field alone, `null` clears it; voice settings merge key by key. */
export type SettingsPatch = {
  readonly [K in Exclude<keyof UserSettings, 'voiceSettings'>]?: UserSettings[K];
} & { readonly voiceSettings?: Partial<VoiceSettings> };

export interface PutHistoryOptions {
  /** When the item (and its audio) is removed: the user's retention. Omitted or null: kept until deleted. */
  readonly expiresAt?: Date | null;
}

export type StoredHistoryItem = HistoryItem & {
  /** ISO time the item expires, when it has a retention. */
  readonly expiresAt?: string;
};

export interface HistoryQuery {
  /** 1–500. */
  readonly limit: number;
  /** `nextCursor` of the previous page. */
  readonly cursor?: string;
  /** Only items created strictly before this ISO time (the list_history tool's `before`). */
  readonly before?: string;
  /** Case-insensitive substring of the text or the voice name. */
  readonly search?: string;
  readonly now?: Date;
}

export interface HistoryPage {
  readonly items: StoredHistoryItem[];
  /**
   * Opaque; null when there is nothing more. A search page can hold fewer than `limit` items and still
   * have a cursor (DynamoDB bounds the items one search call reads).
   */
  readonly nextCursor: string | null;
}

export interface UsageAmount {
  readonly characters: number;
  readonly credits: number;
}

export interface DailyUsage {
  /** YYYY-MM-DD (UTC). */
  readonly date: string;
  readonly characters: number;
  readonly credits: number;
  /** Characters booked by reservations not yet committed or refunded. */
  readonly reserved: number;
}

export interface BudgetRequest {
  readonly user: string;
  readonly characters: number;
  /** The ceiling in force for this user today; null: none. */
  readonly limit: number | null;
  readonly at?: Date;
}

export type BudgetDecision =
  | { readonly ok: true; readonly reservation: Reservation }
  | {
      readonly ok: false;
      /** Characters used plus reserved today, when refused. */
      readonly used: number;
      readonly limit: number;
    };

/** Plain data, so it can be logged; settle it with commitReservation or refundReservation. */
export interface Reservation {
  readonly id: string;
  readonly user: string;
  /** The UTC day it counts against (also when committed after midnight). */
  readonly day: string;
  readonly characters: number;
  /** After this ISO time another process may reclaim it. */
  readonly expiresAt: string;
}

export interface AudioSinkOptions {
  /** A clip larger than this is dropped (the user's remaining audio quota). Default 16 MiB. */
  readonly maxBytes?: number;
}

export interface AudioSink {
  /**
   * Queues the chunk, not a copy (audio is handed over and never changed after: see SynthesisEvent); never
   * blocks, never throws. After a failure it ignores chunks.
   */
  write(chunk: Uint8Array): void;
  /**
   * Resolves to the bytes stored once the clip is durable under its final name; rejects with
   * `AudioNotKeptError` (aborted, too large, store too slow), `StoreFullError` or `StoreUnavailableError`.
   */
  finish(): Promise<number>;
  /** Drops the clip; nothing is left behind. */
  abort(): void;
}

export interface StoredAudio {
  /** Exactly `bytes` bytes; it errors (never ends early in silence) if the file is cut while streaming. */
  readonly stream: Readable;
  readonly bytes: number;
}

export interface MaintenanceReport {
  readonly expiredItems: number;
  readonly orphanFiles: number;
  readonly temporaryFiles: number;
  readonly reclaimedReservations: number;
}

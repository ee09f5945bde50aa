import type { HistoryItem, UserSettings } from '@earshot/protocol';
import type { Readable } from 'node:stream';

export interface DailyUsage {
  readonly date: string; // YYYY-MM-DD (UTC)
  readonly characters: number;
  readonly credits: number;
}

export interface HistoryQuery {
  readonly limit: number;
  readonly before?: string;
  readonly search?: string;
}

/**
 * Receives a speech's audio while it streams. `write` never waits on storage: it queues and returns, so
 * the audio path is never held up; `finish` resolves once everything is stored (or has failed for good).
 */
export interface AudioSink {
  write(chunk: Uint8Array): void;
  /** Resolves to the number of bytes stored, or null when the audio could not be kept. */
  finish(): Promise<number | null>;
  abort(): void;
}

/** Where settings, history and audio live: local files on a laptop, S3 in AWS. */
export interface Store {
  readonly kind: 'local' | 's3';
  getSettings(user: string): Promise<UserSettings>;
  putSettings(user: string, settings: UserSettings): Promise<void>;

  putHistory(user: string, item: HistoryItem): Promise<void>;
  listHistory(
    user: string,
    query: { limit: number; before?: string; search?: string },
  ): Promise<HistoryItem[]>;
  getHistory(user: string, id: string): Promise<HistoryItem | null>;
  deleteHistory(user: string, id: string): Promise<boolean>;

  openAudio(user: string, id: string): AudioSink;
  readAudio(user: string, id: string): Promise<Readable | null>;

  addUsage(user: string, characters: number, credits: number, at?: Date): Promise<void>;
  getUsage(user: string, days: number): Promise<DailyUsage[]>;

  checkReady(): Promise<void>;
  close(): Promise<void>;
}

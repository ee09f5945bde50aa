import type { ServerLimits, UserSettings } from '@earshot/protocol';
import { z } from 'zod';
import { EarshotError } from '../errors.js';
import type { Hub } from '../hub/index.js';
import type { Store } from '../storage/index.js';

/** Voice settings as agents and the console send them; ranges from the ElevenLabs API. */
export const VoiceSettingsSchema = z
  .object({
    stability: z.number().min(0).max(1).optional().describe('0–1; lower is more expressive. Default 0.5.'),
    similarity_boost: z
      .number()
      .min(0)
      .max(1)
      .optional()
      .describe('0–1; closeness to the original voice. Default 0.75.'),
    style: z.number().min(0).max(1).optional().describe('0–1; style exaggeration. Default 0.'),
    use_speaker_boost: z.boolean().optional().describe('Boosts similarity to the speaker. Default true.'),
    speed: z.number().min(0.7).max(1.2).optional().describe('0.7–1.2; 1 is normal speed.'),
  })
  .strict();

export const MAX_RETENTION_DAYS = 3650;
export const MAX_QUOTA_MB = 10_000_000;

export const SettingsPatchSchema = z
  .object({
    defaultVoice: z.string().min(1).max(100).nullable().optional(),
    defaultModel: z.string().min(1).max(100).nullable().optional(),
    voiceSettings: VoiceSettingsSchema.optional(),
    autoPlay: z.boolean().optional(),
    saveAudio: z.boolean().optional(),
    dailyCharLimit: z.number().int().min(0).max(100_000_000).nullable().optional(),
    audioRetentionDays: z.number().int().min(1).max(MAX_RETENTION_DAYS).nullable().optional(),
    audioQuotaMb: z.number().int().min(1).max(MAX_QUOTA_MB).nullable().optional(),
  })
  .strict();

export type SettingsPatch = z.infer<typeof SettingsPatchSchema>;

/** The limits in force for a user: their own where set, never above the server's. null: none. */
export interface EffectiveLimits {
  readonly dailyCharLimit: number | null;
  readonly audioRetentionDays: number | null;
  readonly audioQuotaBytes: number | null;
}

const CAPPED = {
  dailyCharLimit: { what: 'daily character budget', unit: 'characters', env: 'EARSHOT_DAILY_CHAR_LIMIT' },
  audioRetentionDays: { what: 'audio retention', unit: 'days', env: 'EARSHOT_AUDIO_RETENTION_DAYS' },
  audioQuotaMb: { what: 'audio storage quota', unit: 'MB', env: 'EARSHOT_AUDIO_QUOTA_MB' },
} as const;

/**
 * How long settings read from the store (or, on a store with a change mark, found unchanged by it) are used
 * without asking it anything. Changes made here take effect at once (the cache is replaced by what was
 * written). Other processes sharing the store — more tasks behind a load balancer on DynamoDB, a second
 * `earshot serve` or the `earshot` CLI on the same SQLite file — write without telling this one; their changes
 * reach this process within this time: a second is shorter than anyone takes to switch from the console to
 * an agent, and still turns a burst of calls into one read per user per second. On a store with a change
 * mark (SQLite: `PRAGMA data_version`, a few microseconds) settings are kept past this time for as long as
 * the mark says no other connection committed anything, up to `SETTINGS_CACHE_MAX_AGE_MS`: a user who speaks
 * once a minute no longer pays a read, a JSON parse and a validation on the way to the first audio. (The mark
 * moves on any commit elsewhere, to any table: beside a second busy server it is mostly this TTL again.)
 * Budgets are not cached: spending is reserved in the store, atomically, on every speech.
 */
export const SETTINGS_CACHE_TTL_MS = 1000;

/**
 * However still the store's mark, settings are read again at least this often. Not for other processes: a
 * commit by another connection moves the mark (SQLite moves it when it drops its page cache because the file
 * changed under it, so a change it missed, a read on the same connection would miss too). It bounds the harm
 * of a settings write in this process that does not go through `SettingsService.update`: a commit on this
 * process's own connection leaves the mark as it is, so the cache would never learn of it. None exists today
 * (the legacy import runs at start-up, before the service is made); a future one would be stale for minutes,
 * not for ever. Ten minutes, not one: a one-minute ceiling would make a user who speaks once a minute read on
 * every speech again; ten makes it one speech in ten, and one read per user per ten minutes costs nothing.
 */
export const SETTINGS_CACHE_MAX_AGE_MS = 10 * 60_000;

/**
 * One reading of the store's change mark answers every user's check for this long: a burst of calls by many
 * users (twenty agents at once, say) asks the store once instead of once per user, ~20 µs each on the way to
 * each speech's first audio. A reading older than the checks it serves only makes a commit elsewhere look newer
 * than it is (a needless read), never hides one (see get()); it delays seeing a commit elsewhere by at most
 * this, beside the TTL's second.
 */
export const CHANGE_MARK_SHARED_MS = 100;

export interface SettingsCacheOptions {
  /** @default SETTINGS_CACHE_TTL_MS */
  readonly ttlMs?: number;
  /** @default SETTINGS_CACHE_MAX_AGE_MS */
  readonly maxAgeMs?: number;
  /** Milliseconds on a monotonic clock (tests move it). @default performance.now */
  readonly now?: () => number;
}

interface CacheEntry {
  readonly settings: Promise<UserSettings>;
  /** When the read that gave `settings` started, or the write that gave them ended (the `now` clock). */
  readonly at: number;
  /** When the entry was last known good: read, written, or its mark found unchanged (the `now` clock). */
  checkedAt: number;
  /** The store's change mark taken before that read or write started; undefined: the store has none. */
  readonly mark: number | undefined;
}

/** Settings shared by every caller of the cache: frozen, so none can change another's copy. */
function freeze(settings: UserSettings): UserSettings {
  Object.freeze(settings.voiceSettings);
  return Object.freeze(settings);
}

/**
 * Reads and changes a user's settings; every change is pushed to that user's open players. The server's
 * limits are ceilings: a patch above one is refused, and a saved value above one (the server lowered it
 * later) counts as the server's.
 */
export class SettingsService {
  /** Each user's settings as last read or written here, with when and at which change mark. */
  private readonly cache = new Map<string, CacheEntry>();
  /** The last reading of the store's change mark and when it was taken (see CHANGE_MARK_SHARED_MS). */
  private lastMark: { readonly value: number | undefined; readonly at: number } | undefined;

  constructor(
    private readonly store: Store,
    private readonly hub: Hub,
    readonly serverLimits: ServerLimits,
    private readonly options: SettingsCacheOptions = {},
  ) {}

  /**
   * A user's settings, from memory when read, written or confirmed here less than `ttlMs` ago, or — on a store
   * with a change mark, asked at most once per `ttlMs` — read less than `maxAgeMs` ago with the mark unchanged
   * since: every call and every speech reads them, and the store is a disk or a network away. Concurrent
   * misses share one read; a failed read is not kept. The object is frozen: callers share it.
   */
  get(user: string): Promise<UserSettings> {
    const now = this.now();
    const cached = this.cache.get(user);
    const maxAgeMs = this.options.maxAgeMs ?? SETTINGS_CACHE_MAX_AGE_MS;
    if (
      cached &&
      now < cached.checkedAt + (this.options.ttlMs ?? SETTINGS_CACHE_TTL_MS) &&
      now < cached.at + maxAgeMs
    )
      return cached.settings;
    // The mark is taken before the read starts: a commit elsewhere that races the read changes the mark after
    // this point, so the entry may hold the new settings under the old mark (a needless read next time) but
    // never the old settings under the new mark (a stale hit for as long as nothing else changes).
    const mark = this.mark(now);
    if (cached && mark !== undefined && cached.mark === mark && now < cached.at + maxAgeMs) {
      // Confirmed: trusted again for a TTL without asking (a burst of calls asks the mark once a TTL, not each).
      cached.checkedAt = now;
      return cached.settings;
    }
    const settings = this.store.getSettings(user).then(freeze);
    this.remember(user, { settings, at: now, checkedAt: now, mark });
    settings.catch(() => {
      if (this.cache.get(user)?.settings === settings) this.cache.delete(user);
    });
    return settings;
  }

  /** Applies the patch atomically in the store (two writers never lose each other's fields). */
  async update(user: string, patch: SettingsPatch): Promise<UserSettings> {
    for (const field of Object.keys(CAPPED) as (keyof typeof CAPPED)[]) {
      const value = patch[field];
      const max = this.serverLimits[field];
      if (value === undefined || value === null || max === null || value <= max) continue;
      const { what, unit, env } = CAPPED[field];
      throw new EarshotError(
        'invalid_input',
        `The ${what} can be at most ${max} ${unit} on this server (${env}); ${value} is more. Choose ${max} ` +
          'or less, or clear it to use the server’s.',
      );
    }
    // A read that started before this write may end after it: it no longer fills the cache (see get()).
    this.cache.delete(user);
    // Before the write, as in get(): this process's own commit leaves the mark as it is, and a commit elsewhere
    // landing after the write must not be hidden under a mark taken after it.
    const mark = this.mark(this.now());
    const next = freeze(await this.store.patchSettings(user, patch));
    const at = this.now();
    this.remember(user, { settings: Promise.resolve(next), at, checkedAt: at, mark });
    this.hub.broadcast(user, { type: 'settings.changed', settings: next });
    return next;
  }

  private remember(user: string, entry: CacheEntry): void {
    // The map holds one entry per configured user at most (users are the bounded set of keys).
    this.cache.set(user, entry);
  }

  /**
   * The store's change mark, as read less than CHANGE_MARK_SHARED_MS ago or now; undefined when it has none, or
   * cannot give it now (the read that follows says why; a failed reading is not kept).
   */
  private mark(now: number): number | undefined {
    const last = this.lastMark;
    if (last && now >= last.at && now - last.at < CHANGE_MARK_SHARED_MS) return last.value;
    try {
      const value = this.store.changeMark?.();
      this.lastMark = { value, at: now };
      return value;
    } catch {
      this.lastMark = undefined;
      return undefined;
    }
  }

  private now(): number {
    return this.options.now?.() ?? performance.now();
  }

  /** The limits in force for these settings. */
  effective(settings: UserSettings): EffectiveLimits {
    const quotaMb = lowest(settings.audioQuotaMb, this.serverLimits.audioQuotaMb);
    return {
      dailyCharLimit: lowest(settings.dailyCharLimit, this.serverLimits.dailyCharLimit),
      audioRetentionDays: lowest(settings.audioRetentionDays, this.serverLimits.audioRetentionDays),
      audioQuotaBytes: quotaMb === null ? null : quotaMb * 1024 * 1024,
    };
  }
}

/** The lower of two optional limits; null when neither is set. */
function lowest(own: number | null | undefined, server: number | null): number | null {
  if (own === null || own === undefined) return server;
  return server === null ? own : Math.min(own, server);
}

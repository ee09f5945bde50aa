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
 * Reads and changes a user's settings; every change is pushed to that user's open players. The server's
 * limits are ceilings: a patch above one is refused, and a saved value above one (the server lowered it
 * later) counts as the server's.
 */
export class SettingsService {
  constructor(
    private readonly store: Store,
    private readonly hub: Hub,
    readonly serverLimits: ServerLimits,
  ) {}

  get(user: string): Promise<UserSettings> {
    return this.store.getSettings(user);
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
    const next = await this.store.patchSettings(user, patch);
    this.hub.broadcast(user, { type: 'settings.changed', settings: next });
    return next;
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

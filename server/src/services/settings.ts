import type { UserSettings, VoiceSettings } from '@earshot/protocol';
import { z } from 'zod';
import type { Hub } from '../hub/index.js';
import type { Store } from '../store/index.js';

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

export const SettingsPatchSchema = z
  .object({
    defaultVoice: z.string().min(1).max(100).nullable().optional(),
    defaultModel: z.string().min(1).max(100).nullable().optional(),
    voiceSettings: VoiceSettingsSchema.optional(),
    autoPlay: z.boolean().optional(),
    saveAudio: z.boolean().optional(),
    dailyCharLimit: z.number().int().min(0).max(100_000_000).nullable().optional(),
  })
  .strict();

export type SettingsPatch = z.infer<typeof SettingsPatchSchema>;

/** Reads and changes a user's settings; every change is pushed to that user's open players. */
export class SettingsService {
  constructor(
    private readonly store: Store,
    private readonly hub: Hub,
  ) {}

  get(user: string): Promise<UserSettings> {
    return this.store.getSettings(user);
  }

  async update(user: string, patch: SettingsPatch): Promise<UserSettings> {
    const current = await this.store.getSettings(user);
    const voiceSettings: VoiceSettings = patch.voiceSettings
      ? { ...current.voiceSettings, ...patch.voiceSettings }
      : current.voiceSettings;
    const next: UserSettings = {
      defaultVoice: patch.defaultVoice === undefined ? current.defaultVoice : patch.defaultVoice,
      defaultModel: patch.defaultModel === undefined ? current.defaultModel : patch.defaultModel,
      voiceSettings,
      autoPlay: patch.autoPlay ?? current.autoPlay,
      saveAudio: patch.saveAudio ?? current.saveAudio,
      dailyCharLimit: patch.dailyCharLimit === undefined ? current.dailyCharLimit : patch.dailyCharLimit,
    };
    await this.store.putSettings(user, next);
    this.hub.broadcast(user, { type: 'settings.changed', settings: next });
    return next;
  }
}

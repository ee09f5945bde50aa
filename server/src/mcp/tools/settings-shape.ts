import type { UserSettings } from '@earshot/protocol';
import { z } from 'zod';
import { VoiceSettingsSchema } from '../../services/settings.js';

/** Settings as MCP tools show them: snake_case like every other tool argument. */
export const settingsOutputShape = {
  default_voice: z.string().nullable().describe('Voice id used when speak names none.'),
  default_model: z.string().nullable(),
  voice_settings: VoiceSettingsSchema,
  auto_play: z.boolean(),
  save_audio: z.boolean(),
  daily_char_limit: z
    .number()
    .nullable()
    .describe('Characters per day for this user; null: the server default.'),
  audio_retention_days: z
    .number()
    .nullable()
    .describe('Days spoken items and their audio are kept; null: the server default.'),
  audio_quota_mb: z
    .number()
    .nullable()
    .describe('Megabytes of audio kept at most; null: the server default.'),
};

export function settingsForTools(settings: UserSettings) {
  return {
    default_voice: settings.defaultVoice,
    default_model: settings.defaultModel,
    voice_settings: { ...settings.voiceSettings },
    auto_play: settings.autoPlay,
    save_audio: settings.saveAudio,
    daily_char_limit: settings.dailyCharLimit,
    audio_retention_days: settings.audioRetentionDays,
    audio_quota_mb: settings.audioQuotaMb,
  };
}

/** The settings in one line; `engineModel`: the model "the engine default" stands for, named for the reader. */
export function describeSettings(settings: UserSettings, engineModel: string): string {
  const voiceSettings = Object.entries(settings.voiceSettings)
    .map(([key, value]) => `${key}=${String(value)}`)
    .join(', ');
  return (
    `Default voice: ${settings.defaultVoice ?? '(engine default)'}; model: ${settings.defaultModel ?? `(engine default: ${engineModel})`}; ` +
    `voice settings: ${voiceSettings || '(defaults)'}; auto-play: ${settings.autoPlay ? 'on' : 'off'}; ` +
    `save audio: ${settings.saveAudio ? 'on' : 'off'}; daily limit: ${settings.dailyCharLimit ?? 'server default'}; ` +
    `audio kept ${settings.audioRetentionDays === null ? 'as long as the server keeps it' : `${settings.audioRetentionDays} days`}, ` +
    `up to ${settings.audioQuotaMb === null ? 'the server quota' : `${settings.audioQuotaMb} MB`}.`
  );
}

import type { ToolSet } from '../tool-set.js';
import { z } from 'zod';
import { EarshotError } from '../../errors.js';
import { MAX_QUOTA_MB, MAX_RETENTION_DAYS, VoiceSettingsSchema } from '../../services/settings.js';
import type { ToolDeps } from '../context.js';
import { guarded, ok } from '../results.js';
import { describeSettings, settingsForTools, settingsOutputShape } from './settings-shape.js';

export const UPDATE_SETTINGS_TOOL = 'update_settings';

export function registerUpdateSettingsTool(tools: ToolSet, deps: ToolDeps): void {
  tools.define(
    UPDATE_SETTINGS_TOOL,
    {
      title: 'Update voice settings',
      description:
        "Change the user's saved defaults. Use it when the user asks for another voice, speed or model from " +
        'now on. Only the fields given change; voice_settings are merged. Saved on the server and pushed to ' +
        'open players. Free.',
      inputSchema: {
        default_voice: z
          .string()
          .min(1)
          .max(100)
          .nullable()
          .optional()
          .describe('Voice id or name; null resets.'),
        default_model: z.string().min(1).max(100).nullable().optional().describe('Model id; null resets.'),
        voice_settings: VoiceSettingsSchema.optional(),
        auto_play: z.boolean().optional(),
        save_audio: z.boolean().optional().describe('Keep generated audio in history.'),
        daily_char_limit: z
          .number()
          .int()
          .min(0)
          .max(100_000_000)
          .nullable()
          .optional()
          .describe('Characters per UTC day (at most the server limit); null uses the server default.'),
        audio_retention_days: z
          .number()
          .int()
          .min(1)
          .max(MAX_RETENTION_DAYS)
          .nullable()
          .optional()
          .describe(
            'Days to keep spoken items and their audio (at most the server maximum); null: the server default.',
          ),
        audio_quota_mb: z
          .number()
          .int()
          .min(1)
          .max(MAX_QUOTA_MB)
          .nullable()
          .optional()
          .describe(
            'Megabytes of audio to keep at most (at most the server maximum); null: the server default.',
          ),
      },
      outputSchema: settingsOutputShape,
      annotations: {
        readOnlyHint: false,
        destructiveHint: false,
        idempotentHint: true,
        openWorldHint: false,
      },
    },
    (args, call) =>
      guarded(async () => {
        if (Object.values(args).every((value) => value === undefined)) {
          throw new EarshotError('invalid_input', 'Nothing to change: give at least one setting.');
        }
        // Validate names against the engine before saving, and store the voice by id.
        const voice = args.default_voice ? await deps.catalog.resolveVoice(args.default_voice) : undefined;
        if (args.default_model) await deps.catalog.resolveModel(args.default_model, 0);
        const settings = await deps.settings.update(call.user, {
          defaultVoice: args.default_voice === null ? null : voice?.id,
          defaultModel: args.default_model,
          voiceSettings: args.voice_settings,
          autoPlay: args.auto_play,
          saveAudio: args.save_audio,
          dailyCharLimit: args.daily_char_limit,
          audioRetentionDays: args.audio_retention_days,
          audioQuotaMb: args.audio_quota_mb,
        });
        return ok(
          `Saved. ${describeSettings(settings, deps.engine.defaultModelId)}`,
          settingsForTools(settings),
        );
      }),
  );
}

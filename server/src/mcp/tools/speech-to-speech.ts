import type { ToolSet } from '../tool-set.js';
import { INPUT_PATH_MAX_CHARS } from '../../services/input-files.js';
import { z } from 'zod';
import { VoiceSettingsSchema } from '../../services/settings.js';
import { FILE_DESCRIPTION, readOneSource, SOURCE_DESCRIPTION } from '../audio-source.js';
import { progressReporter, whileCancellable } from '../call-control.js';
import type { ToolDeps } from '../context.js';
import { CREATION_ANNOTATIONS, NAME_MAX_CHARS } from '../generated-audio.js';
import { guarded, ok } from '../results.js';
import { inChatPlayerMeta, PLAYER_APP_TOOL_META } from '../player-app.js';
import {
  CREDITS_PER_AUDIO_MINUTE,
  estimateCredits,
  needStudio,
  playedAudio,
  playedAudioShape,
  playedSummary,
  waitArg,
} from './audio-tool-shared.js';

export const SPEECH_TO_SPEECH_TOOL = 'speech_to_speech';

const STS_MODELS = ['eleven_multilingual_sts_v2', 'eleven_english_sts_v2'] as const;

export function registerSpeechToSpeechTool(tools: ToolSet, deps: ToolDeps): void {
  tools.define(
    SPEECH_TO_SPEECH_TOOL,
    {
      requires: 'elevenlabs',
      title: 'Re-voice speech',
      description:
        'Say the same words, with the same timing and emotion, in another voice (ElevenLabs Voice Changer): ' +
        'the source (Earshot history audio, or a file from EARSHOT_INPUT_DIRS) is re-voiced and streamed ' +
        "live to the user's players like speak, and kept in " +
        `history. Costs ElevenLabs credits: about ${CREDITS_PER_AUDIO_MINUTE} per minute of source audio ` +
        '(booked against the daily budget before anything is spent). Needs an ElevenLabs key.',
      inputSchema: {
        source: z.string().min(1).max(300).optional().describe(SOURCE_DESCRIPTION),
        input_path: z.string().min(1).max(INPUT_PATH_MAX_CHARS).optional().describe(FILE_DESCRIPTION),
        voice: z
          .string()
          .min(1)
          .max(NAME_MAX_CHARS)
          .optional()
          .describe("Voice id or name (case-insensitive); default: the user's default voice."),
        model: z
          .enum(STS_MODELS)
          .optional()
          .describe('eleven_multilingual_sts_v2 (default) or eleven_english_sts_v2.'),
        settings: VoiceSettingsSchema.optional().describe('Voice settings for this call only.'),
        remove_background_noise: z.boolean().optional().describe('Clean the source first.'),
        wait: waitArg,
      },
      outputSchema: { ...playedAudioShape, voice: z.object({ id: z.string(), name: z.string() }) },
      _meta: PLAYER_APP_TOOL_META,
      annotations: CREATION_ANNOTATIONS,
    },
    (args, call) =>
      guarded(async () => {
        const studio = needStudio(deps, 'Speech to speech');
        const saved = await deps.settings.get(call.user);
        const voice = await deps.catalog.resolveVoice(args.voice ?? saved.defaultVoice);
        const source = await readOneSource(deps, call.user, args);
        const model = args.model ?? STS_MODELS[0];
        const voiceRef = { id: voice.id, name: voice.name };
        const started = await deps.speech.startPaidAudio(
          call.user,
          {
            text: `(${source.label} re-voiced as ${voice.name})`,
            voice: voiceRef,
            model,
            credits: estimateCredits(source.durationMs),
            audio: (signal) =>
              studio.speechToSpeech(
                {
                  source,
                  voiceId: voice.id,
                  modelId: model,
                  settings: args.settings,
                  removeBackgroundNoise: args.remove_background_noise,
                },
                signal,
              ),
          },
          { source: 'mcp', onProgress: progressReporter(call).onAudio, inChat: true },
        );
        return whileCancellable(deps, call, started, async () => {
          const result = await deps.speech.finish(started, args.wait);
          const _meta = inChatPlayerMeta(deps, call.user, started.handle.id);
          const response = ok(playedSummary(deps, result, `Re-voiced ${source.label} as ${voice.name}`), {
            ...playedAudio(deps, result),
            voice: voiceRef,
          });
          return { ...response, ...(_meta && { _meta }) };
        });
      }),
  );
}

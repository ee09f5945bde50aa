import { CREATION_ANNOTATIONS } from '../generated-audio.js';
import type { ToolSet } from '../tool-set.js';
import { z } from 'zod';
import { EarshotError } from '../../errors.js';
import { progressReporter, whileCancellable } from '../call-control.js';
import type { ToolDeps } from '../context.js';
import { guarded, ok } from '../results.js';
import { inChatPlayerMeta, PLAYER_APP_TOOL_META } from '../player-app.js';
import {
  estimateCredits,
  needStudio,
  playedAudio,
  playedAudioShape,
  playedSummary,
  waitArg,
} from './audio-tool-shared.js';

export const COMPOSE_MUSIC_TOOL = 'compose_music';

/** ElevenLabs' limits on `music_length_ms`. */
export const MUSIC_MIN_MS = 3_000;
export const MUSIC_MAX_MS = 600_000;
/** What a prompt without a length is booked at: the model picks the length (UNVERIFIED: usually under 3 min). */
const MUSIC_DEFAULT_ESTIMATE_MS = 180_000;
/** Credits per minute of music booked against the daily budget (UNVERIFIED: ElevenLabs bills music per minute). */
export const MUSIC_CREDITS_PER_MINUTE = 1000;

export function registerComposeMusicTool(tools: ToolSet, deps: ToolDeps): void {
  tools.define(
    COMPOSE_MUSIC_TOOL,
    {
      requires: 'elevenlabs',
      title: 'Compose music',
      description:
        'Compose a piece of music from a prompt ("a calm lo-fi loop with soft piano") with ElevenLabs Music, ' +
        "streamed to the user's players as it is composed and kept in history. Costs ElevenLabs credits, " +
        `billed per minute of music (Earshot books about ${MUSIC_CREDITS_PER_MINUTE} credits a minute against ` +
        'the daily budget before anything is spent; 3 minutes when length_ms is not given). Needs an ' +
        'ElevenLabs key and a plan with music.',
      inputSchema: {
        prompt: z.string().min(1).max(2000).describe('What the music should be (style, mood, instruments).'),
        length_ms: z
          .number()
          .int()
          .min(MUSIC_MIN_MS)
          .max(MUSIC_MAX_MS)
          .optional()
          .describe('3,000–600,000 ms; default: chosen by the model.'),
        force_instrumental: z.boolean().optional().describe('No vocals.'),
        wait: waitArg,
      },
      outputSchema: playedAudioShape,
      _meta: PLAYER_APP_TOOL_META,
      annotations: CREATION_ANNOTATIONS,
    },
    (args, call) =>
      guarded(async () => {
        const studio = needStudio(deps, 'Music');
        const prompt = args.prompt.trim();
        if (prompt === '') throw new EarshotError('invalid_input', 'Describe the music to compose.');
        const started = await deps.speech.startPaidAudio(
          call.user,
          {
            text: prompt,
            voice: { id: 'music', name: 'Music' },
            model: 'music',
            credits: estimateCredits(args.length_ms ?? MUSIC_DEFAULT_ESTIMATE_MS, MUSIC_CREDITS_PER_MINUTE),
            audio: (signal) =>
              studio.composeMusic(
                { prompt, lengthMs: args.length_ms, forceInstrumental: args.force_instrumental },
                signal,
              ),
          },
          { source: 'mcp', onProgress: progressReporter(call).onAudio, inChat: true },
        );
        return whileCancellable(deps, call, started, async () => {
          const result = await deps.speech.finish(started, args.wait);
          const _meta = inChatPlayerMeta(deps, call.user, started.handle.id);
          const response = ok(playedSummary(deps, result, 'Composed the music'), playedAudio(deps, result));
          return { ...response, ...(_meta && { _meta }) };
        });
      }),
  );
}

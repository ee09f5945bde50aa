import type { ToolSet } from '../tool-set.js';
import { INPUT_PATH_MAX_CHARS } from '../../services/input-files.js';
import { z } from 'zod';
import { FILE_DESCRIPTION, readOneSource, SOURCE_DESCRIPTION } from '../audio-source.js';
import { progressReporter } from '../call-control.js';
import type { ToolDeps } from '../context.js';
import { listenersPhrase, nobodyHeard } from '../delivery.js';
import {
  audioOutputArgs,
  checkOutputArgs,
  finishAndDeliver,
  CREATION_ANNOTATIONS,
} from '../generated-audio.js';
import { guarded, ok } from '../results.js';
import { inChatPlayerMeta, PLAYER_APP_TOOL_META } from '../player-app.js';
import {
  CREDITS_PER_AUDIO_MINUTE,
  estimateCredits,
  generatedClipShape,
  needStudio,
} from './audio-tool-shared.js';

export const ISOLATE_AUDIO_TOOL = 'isolate_audio';

export function registerIsolateAudioTool(tools: ToolSet, deps: ToolDeps): void {
  tools.define(
    ISOLATE_AUDIO_TOOL,
    {
      requires: 'elevenlabs',
      title: 'Remove background noise',
      description:
        'Keep the voice and remove the background (noise, music, room) from audio with ElevenLabs Voice ' +
        'Isolator. The source is Earshot history audio or a file from EARSHOT_INPUT_DIRS; the clean audio is ' +
        'kept in history and returned like text_to_speech (output link, audio or file), and played on the ' +
        `user's players only with play: true. Costs ElevenLabs credits: about ${CREDITS_PER_AUDIO_MINUTE} per ` +
        'minute of source audio (booked against the daily budget before anything is spent). Needs an ' +
        'ElevenLabs key.',
      inputSchema: {
        source: z.string().min(1).max(300).optional().describe(SOURCE_DESCRIPTION),
        input_path: z.string().min(1).max(INPUT_PATH_MAX_CHARS).optional().describe(FILE_DESCRIPTION),
        play: z.boolean().optional().describe("Also play it on the user's players (default false)."),
        ...audioOutputArgs,
      },
      outputSchema: generatedClipShape,
      _meta: PLAYER_APP_TOOL_META,
      annotations: CREATION_ANNOTATIONS,
    },
    (args, call) =>
      guarded(async () => {
        const studio = needStudio(deps, 'Audio isolation');
        checkOutputArgs(args);
        const play = args.play === true;
        const source = await readOneSource(deps, call.user, args);
        const started = await deps.speech.startPaidAudio(
          call.user,
          {
            text: `(${source.label} without background noise)`,
            voice: { id: 'audio-isolation', name: 'Voice isolator' },
            model: 'audio-isolation',
            credits: estimateCredits(source.durationMs),
            audio: (signal) => studio.isolateAudio(source, signal),
          },
          { source: 'mcp', silent: !play, onProgress: progressReporter(call).onAudio, inChat: true },
        );
        const { result, ...delivered } = await finishAndDeliver(deps, call, started, args);
        const made = `Removed the background from ${source.label}: ${(result.durationMs / 1000).toFixed(1)} s (${result.credits} credits).`;
        const nobody = play ? nobodyHeard(result, deps.speech.playerPageUrl()) : null;
        const summary = nobody
          ? `${nobody} ${made} ${delivered.note}`
          : `${made} ${play ? `Played to ${listenersPhrase(result)}.` : 'Not played.'} ${delivered.note}`;
        const response = ok(summary, {
          id: result.id,
          credits: result.credits,
          durationMs: result.durationMs,
          playersReached: result.playersReached,
          playersListening: result.playersListening,
          audioUrl: result.audioUrl,
          resourceUri: `earshot://history/${result.id}`,
          ...(delivered.path ? { path: delivered.path } : {}),
        });
        // Not played: the in-chat player offers it and waits for a click, as for text_to_speech.
        const _meta = inChatPlayerMeta(deps, call.user, started.handle.id, play);
        return { ...response, content: [...response.content, ...delivered.content], ...(_meta && { _meta }) };
      }),
  );
}

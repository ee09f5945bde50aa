import type { ToolSet } from '../tool-set.js';
import { z } from 'zod';
import { progressReporter } from '../call-control.js';
import {
  audioOutputArgs,
  checkOutputArgs,
  finishAndDeliver,
  CREATION_ANNOTATIONS,
} from '../generated-audio.js';
import type { ToolDeps } from '../context.js';
import { guarded, ok } from '../results.js';
import { listenersPhrase, nobodyHeard } from '../delivery.js';
import { generatedClipShape } from './audio-tool-shared.js';

export const TEXT_TO_SOUND_EFFECTS_TOOL = 'text_to_sound_effects';

export function registerTextToSoundEffectsTool(tools: ToolSet, deps: ToolDeps): void {
  tools.define(
    TEXT_TO_SOUND_EFFECTS_TOOL,
    {
      requires: 'elevenlabs',
      title: 'Make a sound effect',
      description:
        'Generate a sound effect from a description ("a short success chime", "rain on a window") with ' +
        "ElevenLabs, play it on the user's players (unless play is false) and return it like text_to_speech " +
        '(output link, audio or file). Costs ElevenLabs credits (billed per second of sound; ~200 credits for ' +
        'an automatic duration). Needs an ElevenLabs key.',
      inputSchema: {
        text: z.string().min(1).max(1000).describe('What the sound should be.'),
        duration_seconds: z
          .number()
          .min(0.5)
          .max(30)
          .optional()
          .describe('0.5–30 s; default: chosen by the model.'),
        prompt_influence: z
          .number()
          .min(0)
          .max(1)
          .optional()
          .describe('0–1: how literally to follow the text (0.3).'),
        loop: z.boolean().optional().describe('Make it loop seamlessly.'),
        play: z.boolean().optional().describe("Play it on the user's players (default true)."),
        ...audioOutputArgs,
      },
      outputSchema: generatedClipShape,
      annotations: CREATION_ANNOTATIONS,
    },
    (args, call) =>
      guarded(async () => {
        checkOutputArgs(args);
        const started = await deps.speech.startSoundEffect(
          call.user,
          {
            text: args.text,
            durationSeconds: args.duration_seconds,
            promptInfluence: args.prompt_influence,
            loop: args.loop,
          },
          { source: 'mcp', silent: args.play === false, onProgress: progressReporter(call).onAudio },
        );
        const { result, ...delivered } = await finishAndDeliver(deps, call, started, args);
        const structured = {
          id: result.id,
          credits: result.credits,
          durationMs: result.durationMs,
          playersReached: result.playersReached,
          playersListening: result.playersListening,
          audioUrl: result.audioUrl,
          resourceUri: `earshot://history/${result.id}`,
          ...(delivered.path ? { path: delivered.path } : {}),
        };
        const made = `Made a ${(result.durationMs / 1000).toFixed(1)} s sound (${result.credits} credits).`;
        const nobody = args.play === false ? null : nobodyHeard(result, deps.speech.playerPageUrl());
        const summary = nobody
          ? `${nobody} ${made} ${delivered.note}`
          : `${made} ${args.play === false ? 'Not played.' : `Played to ${listenersPhrase(result)}.`} ${delivered.note}`;
        const response = ok(summary, structured);
        return { ...response, content: [...response.content, ...delivered.content] };
      }),
  );
}

import type { ToolSet } from '../tool-set.js';
import { z } from 'zod';
import { LanguageSchema } from '../../services/language.js';
import { VoiceSettingsSchema } from '../../services/settings.js';
import type { ToolDeps } from '../context.js';
import { progressReporter, whileCancellable } from '../call-control.js';
import { engineWording, CREATION_ANNOTATIONS, NAME_MAX_CHARS, textArg } from '../generated-audio.js';
import { guarded, ok } from '../results.js';
import { inChatPlayerMeta, PLAYER_APP_TOOL_META, withInChatNote } from '../player-app.js';
import { listenersPhrase, nobodyHeard, playersListeningShape, playersReachedShape } from '../delivery.js';

export const SPEAK_DIALOGUE_TOOL = 'speak_dialogue';

export function registerSpeakDialogueTool(tools: ToolSet, deps: ToolDeps): void {
  tools.define(
    SPEAK_DIALOGUE_TOOL,
    {
      title: 'Speak a dialogue',
      description:
        "Speak a short script with several voices, line by line, as one continuous clip on the user's players " +
        '(each line continues from the ones before it, so the voices flow). Use it for a back-and-forth ' +
        `summary, a role-play or a demo. ${engineWording(deps.engine).cost(' of all lines')} ` +
        'Returns when the audio has been generated (or played, with wait: "played").',
      inputSchema: {
        lines: z
          .array(
            z.object({
              voice: z.string().min(1).max(NAME_MAX_CHARS).describe('Voice id or name for this line.'),
              text: textArg(deps.maxTextLength).describe('What this voice says.'),
            }),
          )
          .min(1)
          .max(50)
          .describe('The script, in order.'),
        model: z.string().max(NAME_MAX_CHARS).optional().describe(engineWording(deps.engine).model),
        settings: VoiceSettingsSchema.optional().describe('Voice settings for every line.'),
        language: LanguageSchema.optional().describe(engineWording(deps.engine).language),
        wait: z
          .enum(['generated', 'played'])
          .optional()
          .describe('"played": wait until a listening player finished it (at once when none has audio on).'),
      },
      outputSchema: {
        id: z.string(),
        status: z.enum(['completed', 'stopped', 'failed']),
        lines: z.number(),
        characters: z.number(),
        credits: z.number(),
        durationMs: z.number(),
        playersReached: z.number().describe(playersReachedShape),
        playersListening: z.number().describe(playersListeningShape),
        played: z.boolean(),
        audioUrl: z.string().nullable(),
        playerUrl: z.string(),
      },
      annotations: CREATION_ANNOTATIONS,
      _meta: PLAYER_APP_TOOL_META,
    },
    (args, call) =>
      guarded(async () => {
        const started = await deps.speech.startDialogue(
          call.user,
          { lines: args.lines, model: args.model, settings: args.settings, language: args.language },
          { source: 'mcp', onProgress: progressReporter(call).onAudio, inChat: true },
        );
        return whileCancellable(deps, call, started, async () => {
          const result = await deps.speech.finish(started, args.wait);
          const structured = {
            id: result.id,
            status: result.status,
            lines: args.lines.length,
            characters: result.characters,
            credits: result.credits,
            durationMs: result.durationMs,
            playersReached: result.playersReached,
            playersListening: result.playersListening,
            played: result.played,
            audioUrl: result.audioUrl,
            playerUrl: deps.speech.playerPageUrl(),
          };
          const what =
            `a ${args.lines.length}-line dialogue with ${started.voice.name} ` +
            `(${(result.durationMs / 1000).toFixed(1)} s, ${result.credits} credits)`;
          const nobody = nobodyHeard(result, structured.playerUrl);
          const text =
            (nobody
              ? `${nobody} Generated ${what}.`
              : `Spoke ${what} to ${listenersPhrase(result)}${result.played ? '; it finished playing' : ''}.`) +
            (result.audioUrl ? ` Audio: ${result.audioUrl}` : '');
          const _meta = inChatPlayerMeta(deps, call.user, started.handle.id);
          const said = withInChatNote(text, result.playersListening, _meta);
          return { ...ok(said, structured), ...(_meta && { _meta }) };
        });
      }),
  );
}

import type { ToolSet } from '../tool-set.js';
import { z } from 'zod';
import type { ToolDeps } from '../context.js';
import { progressReporter } from '../call-control.js';
import {
  audioOutputArgs,
  checkOutputArgs,
  engineWording,
  finishAndDeliver,
  textArg,
  voiceChoiceArgs,
} from '../generated-audio.js';
import { guarded, ok } from '../results.js';
import { inChatPlayerMeta, PLAYER_APP_TOOL_META } from '../player-app.js';

export const TEXT_TO_SPEECH_TOOL = 'text_to_speech';

export function registerTextToSpeechTool(tools: ToolSet, deps: ToolDeps): void {
  tools.define(
    TEXT_TO_SPEECH_TOOL,
    {
      title: 'Generate speech audio',
      description:
        'Turn text into an audio file WITHOUT playing it (use speak to talk to the user). Use it to make a ' +
        'voice-over, a notification sound or a clip to attach somewhere. Output: "link" (default) a link to ' +
        'the audio on this server, also readable as the MCP resource earshot://history/{id}; "audio" the WAV ' +
        'inline as that resource, embedded, when under 512 KB (else a link); "file" a WAV written into ' +
        'EARSHOT_OUTPUT_DIR (local use). ' +
        `${engineWording(deps.engine).cost()} An identical earlier request is reused for free unless fresh is true.`,
      inputSchema: {
        text: textArg(deps.maxTextLength).describe('The words to turn into speech.'),
        ...voiceChoiceArgs(deps.engine),
        ...audioOutputArgs,
      },
      outputSchema: {
        id: z.string(),
        characters: z.number(),
        credits: z.number(),
        durationMs: z.number(),
        cached: z.boolean(),
        audioUrl: z.string().nullable(),
        resourceUri: z.string(),
        path: z.string().optional().describe('Where the file was written (output "file").'),
      },
      annotations: {
        readOnlyHint: false,
        destructiveHint: false,
        idempotentHint: false,
        openWorldHint: true,
      },
      _meta: PLAYER_APP_TOOL_META,
    },
    (args, call) =>
      guarded(async () => {
        checkOutputArgs(args);
        const progress = progressReporter(call);
        const started = await deps.speech.start(
          call.user,
          {
            text: args.text,
            voice: args.voice,
            model: args.model,
            settings: args.settings,
            fresh: args.fresh,
            language: args.language,
          },
          { source: 'mcp', silent: true, onProgress: progress.onAudio, inChat: true },
        );
        const { result, ...delivered } = await finishAndDeliver(deps, call, started, args);
        const structured = {
          id: result.id,
          characters: result.characters,
          credits: result.credits,
          durationMs: result.durationMs,
          cached: result.cached,
          audioUrl: result.audioUrl,
          resourceUri: `earshot://history/${result.id}`,
          ...(delivered.path ? { path: delivered.path } : {}),
        };
        const cost = result.cached ? 'reused stored audio, 0 credits' : `${result.credits} credits`;
        const summary = `Generated ${(result.durationMs / 1000).toFixed(1)} s as ${result.voice.name} (${cost}). ${delivered.note}`;
        const response = ok(summary, structured);
        // Made without playing: the in-chat player offers it, and waits for a click.
        const _meta = inChatPlayerMeta(deps, call.user, started.handle.id, false);
        return { ...response, content: [...response.content, ...delivered.content], ...(_meta && { _meta }) };
      }),
  );
}

import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import { EarshotError } from '../../errors.js';
import { VoiceSettingsSchema } from '../../services/settings.js';
import { deliverStored } from '../audio-output.js';
import type { CallerContext, ToolDeps } from '../context.js';
import { progressReporter, whileCancellable } from '../call-control.js';
import { guarded, ok } from '../results.js';

export const TEXT_TO_SPEECH_TOOL = 'text_to_speech';

export function registerTextToSpeechTool(server: McpServer, deps: ToolDeps, caller: CallerContext): void {
  server.registerTool(
    TEXT_TO_SPEECH_TOOL,
    {
      title: 'Generate speech audio',
      description:
        'Turn text into an audio file WITHOUT playing it (use speak to talk to the user). Use it to make a ' +
        'voice-over, a notification sound or a clip to attach somewhere. Output: "link" (default) a link to ' +
        'the audio on this server, also readable as the MCP resource earshot://history/{id}; "audio" the WAV ' +
        'inline when under 512 KB (else a link); "file" a WAV written into EARSHOT_OUTPUT_DIR (local use). ' +
        'Costs ~1 credit per character (0.5 on Flash/Turbo, free offline); an identical earlier request is ' +
        'reused for free unless fresh is true.',
      inputSchema: {
        text: z.string().min(1).describe('The words to turn into speech.'),
        voice: z.string().optional().describe("Voice id or name; default: the user's default voice."),
        model: z.string().optional().describe("Model id; default: the user's default."),
        settings: VoiceSettingsSchema.optional(),
        output: z
          .enum(['link', 'audio', 'file'])
          .optional()
          .describe('How to return the audio (default "link").'),
        file_name: z
          .string()
          .max(128)
          .optional()
          .describe('With output "file": a plain name ending in .wav (default earshot-<id>.wav).'),
        fresh: z.boolean().optional().describe('Generate anew even if identical audio is stored.'),
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
    },
    (args, extra) =>
      guarded(async () => {
        if (args.file_name && args.output !== 'file') {
          throw new EarshotError('invalid_input', 'file_name only applies with output "file".');
        }
        const progress = progressReporter(extra);
        const started = await deps.speech.start(
          caller.user,
          {
            text: args.text,
            voice: args.voice,
            model: args.model,
            settings: args.settings,
            fresh: args.fresh,
          },
          { source: 'mcp', silent: true, onProgress: progress.onAudio },
        );
        const result = await whileCancellable(deps, caller, extra, started, () =>
          deps.speech.finish(started),
        );
        if (result.status !== 'completed') {
          throw new EarshotError('cancelled', 'Generation was stopped before the end; nothing to return.');
        }
        const delivered = await deliverStored({
          mode: args.output ?? 'link',
          store: deps.store,
          user: caller.user,
          id: result.id,
          httpUrl: (id) => deps.speech.audioUrl(id),
          outputDir: deps.outputDir,
          fileName: args.file_name,
        });
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
        return { ...response, content: [...response.content, ...delivered.content] };
      }),
  );
}

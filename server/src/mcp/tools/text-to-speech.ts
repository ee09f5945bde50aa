import type { ToolSet } from '../tool-set.js';
import { z } from 'zod';
import type { ToolDeps } from '../context.js';
import { progressReporter } from '../call-control.js';
import {
  audioOutputArgs,
  checkOutputArgs,
  engineWording,
  finishAndDeliver,
  CREATION_ANNOTATIONS,
  speakInputOf,
  textArg,
  voiceChoiceArgs,
} from '../generated-audio.js';
import type { VoiceSettings } from '@earshot/protocol';
import {
  checkOutputFormat,
  OFFLINE_OUTPUT_FORMAT_IDS,
  OUTPUT_FORMAT_IDS,
  type OutputFormatId,
} from '../../audio/output-formats.js';
import { EarshotError } from '../../errors.js';
import { deliverRendered, renderedDurationMs } from '../rendered-output.js';
import type { ToolCall } from '../tool-set.js';
import { guarded, ok } from '../results.js';
import { inChatPlayerMeta, PLAYER_APP_TOOL_META } from '../player-app.js';

export const TEXT_TO_SPEECH_TOOL = 'text_to_speech';

type Args = {
  text: string;
  voice?: string;
  model?: string;
  settings?: VoiceSettings;
  language?: string;
  output?: 'link' | 'audio' | 'file';
  file_name?: string;
};

/** text_to_speech with output_format: rendered whole in that format, handed over inline or as a file. */
async function renderInFormat(deps: ToolDeps, call: ToolCall, args: Args, formatId: OutputFormatId) {
  if (args.output !== 'audio' && args.output !== 'file') {
    throw new EarshotError(
      'invalid_input',
      'output_format needs output "audio" or "file"; links serve the stored audio (Ogg Opus, or WAV).',
    );
  }
  checkOutputArgs(args, checkOutputFormat(deps.engine.name, formatId).extension);
  const rendered = await deps.speech.render(
    call.user,
    {
      text: args.text,
      voice: args.voice,
      model: args.model,
      settings: args.settings,
      language: args.language,
    },
    formatId,
    call.ctx.mcpReq.signal,
  );
  const delivered = await deliverRendered(deps, call.user, rendered, args);
  const durationMs = renderedDurationMs(rendered);
  const response = ok(
    `Generated ${(durationMs / 1000).toFixed(1)} s as ${rendered.voice.name} in ${rendered.format.id} ` +
      `(${rendered.credits} credits; not kept in history). ${delivered.note}`,
    {
      characters: rendered.characters,
      credits: rendered.credits,
      durationMs,
      cached: false,
      audioUrl: null,
      format: rendered.format.id,
      ...(delivered.path ? { path: delivered.path } : {}),
    },
  );
  return { ...response, content: [...response.content, ...delivered.content] };
}

export function registerTextToSpeechTool(tools: ToolSet, deps: ToolDeps): void {
  const formats = (deps.engine.name === 'offline' ? OFFLINE_OUTPUT_FORMAT_IDS : OUTPUT_FORMAT_IDS) as [
    OutputFormatId,
    ...OutputFormatId[],
  ];
  tools.define(
    TEXT_TO_SPEECH_TOOL,
    {
      title: 'Generate speech audio',
      description:
        'Turn text into an audio file WITHOUT playing it (use speak to talk to the user). Use it to make a ' +
        'voice-over, a notification sound or a clip to attach somewhere. Output: "link" (default) a link to ' +
        'the audio on this server, also readable as the MCP resource earshot://history/{id}; "audio" the WAV ' +
        'inline as that resource, embedded, when under 512 KB (else a link); "file" a WAV written into your ' +
        'folder of EARSHOT_OUTPUT_DIR (local use). output_format (with output "audio" or "file") returns that ' +
        'format instead, not kept in history. ' +
        `${engineWording(deps.engine).cost()} An identical earlier request is reused for free unless fresh is true.`,
      inputSchema: {
        text: textArg(deps.maxTextLength).describe('The words to turn into speech.'),
        ...voiceChoiceArgs(deps.engine),
        ...audioOutputArgs,
        output_format: z
          .enum(formats)
          .optional()
          .describe(
            deps.engine.name === 'offline'
              ? 'With output "audio" or "file": PCM (as WAV) at an Opus rate, or Ogg Opus at a bit rate; ' +
                  'default: WAV.'
              : 'With output "audio" or "file": ElevenLabs format name — mp3_44100_128 (.mp3), pcm_24000 ' +
                  '(as .wav), ulaw_8000 (.wav), opus_48000_64 (.ogg)…; default: WAV.',
          ),
      },
      outputSchema: {
        id: z
          .string()
          .optional()
          .describe('The history id; absent with output_format (the clip is not kept).'),
        characters: z.number(),
        credits: z.number(),
        durationMs: z.number(),
        cached: z.boolean(),
        audioUrl: z.string().nullable(),
        resourceUri: z.string().optional(),
        format: z.string().optional().describe('The output_format of the audio, when one was asked.'),
        path: z.string().optional().describe('Where the file was written (output "file").'),
      },
      annotations: CREATION_ANNOTATIONS,
      _meta: PLAYER_APP_TOOL_META,
    },
    (args, call) =>
      guarded(async () => {
        if (args.output_format !== undefined) return renderInFormat(deps, call, args, args.output_format);
        checkOutputArgs(args);
        const progress = progressReporter(call);
        const started = await deps.speech.start(call.user, speakInputOf(args), {
          source: 'mcp',
          silent: true,
          onProgress: progress.onAudio,
          inChat: true,
        });
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

import type { ToolSet } from '../tool-set.js';
import { z } from 'zod';
import { EarshotError } from '../../errors.js';
import { INPUT_PATH_MAX_CHARS, openInputFile } from '../../services/input-files.js';
import { openOwnOutputFile } from '../../services/output-files.js';
import { readHistorySource } from '../audio-source.js';
import type { ToolDeps } from '../context.js';
import { guarded, ok } from '../results.js';

export const SPEECH_TO_TEXT_TOOL = 'speech_to_text';

const INLINE_MAX_BYTES = 1024 * 1024;
const FILE_MAX_BYTES = 25 * 1024 * 1024;
const WORDS_MAX = 2000;
const TEXT_MAX = 8000;

export function registerSpeechToTextTool(tools: ToolSet, deps: ToolDeps): void {
  tools.define(
    SPEECH_TO_TEXT_TOOL,
    {
      requires: 'elevenlabs',
      title: 'Transcribe audio',
      description:
        'Transcribe speech to text with word timings (and speaker labels with diarize) using ElevenLabs Scribe. ' +
        'Give exactly one of: source (earshot://history/ID or an audio link from Earshot), file_name (one of ' +
        'your files in EARSHOT_OUTPUT_DIR), input_path (an audio file inside EARSHOT_INPUT_DIRS, 25 MB at ' +
        'most), or audio_base64 + mime_type (at most 1 MB). Costs ElevenLabs credits per ' +
        'minute of audio; needs an ElevenLabs key.',
      inputSchema: {
        source: z.string().max(300).optional(),
        file_name: z.string().max(128).optional(),
        input_path: z
          .string()
          .max(INPUT_PATH_MAX_CHARS)
          .optional()
          .describe('An audio file inside EARSHOT_INPUT_DIRS: absolute, or relative to its first folder.'),
        audio_base64: z.string().max(1_400_000).optional(),
        mime_type: z.string().max(50).optional().describe('With audio_base64, e.g. audio/wav.'),
        language: z.string().max(10).optional().describe('ISO code; default: detected.'),
        diarize: z.boolean().optional().describe('Label who speaks each word.'),
        num_speakers: z.number().int().min(1).max(32).optional(),
        tag_audio_events: z.boolean().optional().describe('Mark laughter, applause… (default true).'),
      },
      outputSchema: {
        text: z.string(),
        language: z.string(),
        words: z.array(
          z.object({
            text: z.string(),
            start: z.number(),
            end: z.number(),
            type: z.string(),
            speakerId: z.string().optional(),
          }),
        ),
        truncated: z.boolean(),
      },
      annotations: { readOnlyHint: true, openWorldHint: true },
    },
    (args, call) =>
      guarded(async () => {
        const studio = deps.engine.studio;
        if (!studio) {
          throw new EarshotError(
            'invalid_input',
            'Transcription needs ElevenLabs; set ELEVENLABS_API_KEY and restart.',
          );
        }
        const given = [args.source, args.file_name, args.input_path, args.audio_base64].filter(
          (value) => value !== undefined,
        );
        if (given.length !== 1) {
          throw new EarshotError(
            'invalid_input',
            'Give exactly one of source, file_name, input_path or audio_base64.',
          );
        }
        let audio: Buffer;
        let fileName: string;
        let mimeType: string;
        if (args.source !== undefined) {
          ({ audio, fileName, mimeType } = await readHistorySource(
            deps,
            call.user,
            args.source,
            FILE_MAX_BYTES,
          ));
        } else if (args.file_name !== undefined || args.input_path !== undefined) {
          // Your own output files, or a file in the folders the operator allowed (EARSHOT_INPUT_DIRS).
          const file =
            args.file_name !== undefined
              ? await openOwnOutputFile(deps.outputDir, call.user, args.file_name, FILE_MAX_BYTES)
              : await openInputFile(
                  { inputDirs: deps.inputDirs, maxBytes: FILE_MAX_BYTES },
                  args.input_path!,
                );
          [audio, fileName, mimeType] = [await file.read(), file.name, file.mimeType];
        } else {
          if (!args.mime_type?.startsWith('audio/')) {
            throw new EarshotError('invalid_input', 'audio_base64 needs mime_type, e.g. audio/wav.');
          }
          audio = Buffer.from(args.audio_base64!, 'base64');
          if (audio.length === 0 || audio.length > INLINE_MAX_BYTES) {
            throw new EarshotError(
              'invalid_input',
              'Inline audio must be 1 byte to 1 MB; use source or file_name for more.',
            );
          }
          [fileName, mimeType] = ['audio', args.mime_type];
        }
        const transcript = await studio.transcribe(
          {
            audio,
            fileName,
            mimeType,
            language: args.language,
            diarize: args.diarize,
            numSpeakers: args.num_speakers,
            tagAudioEvents: args.tag_audio_events,
          },
          call.ctx.mcpReq.signal,
        );
        const truncated = transcript.words.length > WORDS_MAX || transcript.text.length > TEXT_MAX;
        const text =
          transcript.text.length > TEXT_MAX ? `${transcript.text.slice(0, TEXT_MAX)}…` : transcript.text;
        const speakers = new Set(transcript.words.map((word) => word.speakerId).filter(Boolean)).size;
        const summary =
          `Transcript (${transcript.languageCode}${speakers > 1 ? `, ${speakers} speakers` : ''}): ${text}` +
          (truncated ? ' [cut short; the full words list is limited too]' : '');
        return ok(summary, {
          text,
          language: transcript.languageCode,
          words: transcript.words.slice(0, WORDS_MAX).map((word) => ({ ...word })),
          truncated,
        });
      }),
  );
}

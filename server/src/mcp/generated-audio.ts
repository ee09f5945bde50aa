import type { SpeakResult } from '@earshot/protocol';
import type { CallToolResult, ToolAnnotations } from '@modelcontextprotocol/server';
import { z } from 'zod';
import { EarshotError } from '../errors.js';
import { checkOutputFileName } from '../services/output-files.js';
import { LANGUAGE_CODE_MODELS, LanguageSchema } from '../services/language.js';
import { VoiceSettingsSchema } from '../services/settings.js';
import type { SpeakInput, StartedSpeech } from '../services/speech.js';
import { deliverStored } from './audio-output.js';
import { whileCancellable } from './call-control.js';
import type { VoiceEngine } from '../engines/index.js';
import type { ToolDeps } from './context.js';
import type { ToolCall } from './tool-set.js';

/** The longest voice id or name, or model id, an argument may hold (ids are ~20–40 characters). */
export const NAME_MAX_CHARS = 100;

/**
 * A `text` argument: capped in the schema at the configured maximum, so a huge argument is refused before any
 * work, with the advice the speech service gives.
 */
export function textArg(maxTextLength: number) {
  return z
    .string()
    .min(1)
    .max(maxTextLength, {
      error: (issue) =>
        `The text has ${typeof issue.input === 'string' ? issue.input.length : 'too many'} characters; Earshot takes at most ${maxTextLength} per call. ` +
        'Split it into several calls.',
    });
}

/**
 * Descriptions that depend on the engine: offline, `tools/list` must not suggest ElevenLabs models, languages
 * or credits the server cannot deliver.
 */
export function engineWording(engine: VoiceEngine) {
  const offline = engine.name === 'offline';
  return {
    model: offline
      ? `Model id: the offline voice has one, "${engine.defaultModelId}" (the default).`
      : `Model id, e.g. eleven_multilingual_v2 (richest voice, slower). Default: the user's saved default, else ` +
        `${engine.defaultModelId} (fastest).`,
    language: offline
      ? 'ISO 639-1 code; the offline voice speaks English only ("en"). Default: English.'
      : `ISO 639-1 code (e.g. "de") to speak in; only models ${LANGUAGE_CODE_MODELS.join(', ')} take one ` +
        '(others detect it from the text). Default: detected.',
    /** The cost sentence of a tool that speaks, e.g. "of all lines". */
    cost: (of = '') =>
      offline
        ? 'Free: the offline voice spends no credits.'
        : `Costs ElevenLabs credits: 0.5 per character${of} on Flash/Turbo models (Flash is the default), 1 on others.`,
  };
}

/** How to say it: the arguments shared by speak and text_to_speech. */
export const voiceChoiceArgs = (engine: VoiceEngine) => ({
  voice: z
    .string()
    .max(NAME_MAX_CHARS)
    .optional()
    .describe("Voice id or name (case-insensitive); default: the user's default voice."),
  model: z.string().max(NAME_MAX_CHARS).optional().describe(engineWording(engine).model),
  settings: VoiceSettingsSchema.optional().describe('Voice settings for this call only.'),
  language: LanguageSchema.optional().describe(engineWording(engine).language),
  fresh: z
    .boolean()
    .optional()
    .describe(
      'Generate anew even if this exact text, voice and settings were used before (default: reuse it for free).',
    ),
});

/**
 * The annotations of a tool that makes something new with the voice engine (speech, music, a voice): it changes
 * nothing it found, a second call makes another one, and it reaches the engine's world outside Earshot.
 */
export const CREATION_ANNOTATIONS: ToolAnnotations = {
  readOnlyHint: false,
  destructiveHint: false,
  idempotentHint: false,
  openWorldHint: true,
};

/** What a call's text and voice-choice arguments ask the speech service for. */
export function speakInputOf(args: SpeakInput): SpeakInput {
  return {
    text: args.text,
    voice: args.voice,
    model: args.model,
    settings: args.settings,
    fresh: args.fresh,
    language: args.language,
  };
}

/** The arguments every tool that returns generated audio takes. */
export const audioOutputArgs = {
  output: z
    .enum(['link', 'audio', 'file'])
    .optional()
    .describe(
      'How to return the audio (default "link"); "audio": the WAV inline as an embedded resource (under 512 KB).',
    ),
  file_name: z
    .string()
    .max(128)
    .optional()
    .describe(
      'With output "file": a plain name ending in .wav (default earshot-<id>.wav), written in your own folder of EARSHOT_OUTPUT_DIR.',
    ),
};

type OutputArgs = { output?: 'link' | 'audio' | 'file'; file_name?: string };

/** Refuses inconsistent output arguments (and a bad file name) before anything is generated (and spent). */
export function checkOutputArgs(args: OutputArgs, extension = 'wav'): void {
  if (args.file_name && args.output !== 'file') {
    throw new EarshotError('invalid_input', 'file_name only applies with output "file".');
  }
  if (args.file_name !== undefined) checkOutputFileName(args.file_name, extension);
}

/**
 * Waits for generated audio (cancellable), then hands it over in the asked output mode. Returns the speak
 * result and the content blocks to append to the tool's result.
 */
export async function finishAndDeliver(
  deps: ToolDeps,
  call: ToolCall,
  started: StartedSpeech,
  args: OutputArgs,
): Promise<{ result: SpeakResult; content: CallToolResult['content']; note: string; path?: string }> {
  const result = await whileCancellable(deps, call, started, () => deps.speech.finish(started));
  if (result.status !== 'completed') {
    throw new EarshotError('cancelled', 'Generation was stopped before the end; nothing to return.');
  }
  if (result.notKept) {
    throw new EarshotError(
      result.notKept.code,
      `The audio was generated (${result.credits} credits) but not kept: ${result.notKept.reason}. Nothing to return.`,
    );
  }
  const delivered = await deliverStored({
    mode: args.output ?? 'link',
    store: deps.store,
    user: call.user,
    id: result.id,
    httpUrl: (id) => deps.speech.audioUrl(id),
    outputDir: deps.outputDir,
    fileName: args.file_name,
  });
  return { result, ...delivered };
}

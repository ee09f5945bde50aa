import { OGG_OPUS, type VoiceRef } from '@earshot/protocol';
import {
  checkOutputFormat,
  fromOggOpus,
  packageAudio,
  type OutputFormat,
  type OutputFormatId,
} from '../audio/output-formats.js';
import type { SynthesisRequest, VoiceCatalog, VoiceEngine } from '../engines/index.js';
import { EarshotError } from '../errors.js';
import { checkLanguage } from './language.js';
import type { SettingsService } from './settings.js';
import type { SpeakInput } from './speech.js';
import type { SpendingGate } from './spending.js';

/** The largest clip one call may render (a 25 MB WAV is ~9 minutes at 24 kHz). */
export const RENDER_MAX_BYTES = 25 * 1024 * 1024;

export interface RenderedSpeech {
  /** The file's bytes: WAV for PCM and G.711, MP3 or Ogg Opus as they came. */
  readonly audio: Buffer;
  readonly format: OutputFormat;
  readonly characters: number;
  readonly credits: number;
  readonly voice: VoiceRef;
  readonly model: string;
}

export interface RenderDeps {
  readonly engine: VoiceEngine;
  readonly catalog: VoiceCatalog;
  readonly settings: SettingsService;
  readonly spending: SpendingGate;
  readonly maxTextLength: number;
}

/**
 * text_to_speech in an asked output format: checked like a speech (text, voice, model, language, format — all
 * before spending), the budget held while it renders, and the clip returned whole. It is not streamed to
 * players nor kept in history: history keeps one format (Ogg Opus), and this clip is for the caller.
 */
export async function renderSpeech(
  deps: RenderDeps,
  user: string,
  input: SpeakInput,
  formatId: OutputFormatId,
  signal: AbortSignal,
): Promise<RenderedSpeech> {
  const format = checkOutputFormat(deps.engine.name, formatId);
  const text = input.text.trim();
  if (text === '') throw new EarshotError('invalid_input', 'The text is empty; give the words to speak.');
  if (text.length > deps.maxTextLength) {
    throw new EarshotError(
      'text_too_long',
      `The text has ${text.length} characters; Earshot takes at most ${deps.maxTextLength} per call. Split it into several calls.`,
    );
  }
  const saved = await deps.settings.get(user);
  const voice = await deps.catalog.resolveVoice(input.voice ?? saved.defaultVoice);
  const model = await deps.catalog.resolveModel(input.model ?? saved.defaultModel, text.length);
  checkLanguage(deps.engine.name, model, input.language);
  const request: SynthesisRequest = {
    text,
    voiceId: voice.id,
    modelId: model.id,
    settings: { ...saved.voiceSettings, ...input.settings },
    ...(input.language ? { languageCode: input.language } : {}),
    requester: user,
  };
  const rendered = await deps.spending.once(
    user,
    saved,
    () => render(deps.engine, request, format, signal),
    (result) => ({ characters: text.length, credits: result.credits }),
    text.length,
  );
  return {
    audio: packageAudio(format, rendered.audio),
    format,
    characters: text.length,
    credits: rendered.credits,
    voice: { id: voice.id, name: voice.name },
    model: model.id,
  };
}

async function render(
  engine: VoiceEngine,
  request: SynthesisRequest,
  format: OutputFormat,
  signal: AbortSignal,
): Promise<{ audio: Buffer; credits: number }> {
  if (engine.render) return engine.render(request, format, RENDER_MAX_BYTES, signal);
  // The offline engine: its Ogg Opus stream, collected (bounded), then decoded or re-encoded.
  const stream = await engine.synthesize(request, signal);
  if (stream.format.mimeType !== OGG_OPUS) {
    throw new EarshotError('format_unsupported', `The ${engine.name} engine cannot make ${format.id}.`);
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const event of stream.events) {
    if (event.type !== 'audio') continue;
    size += event.data.length;
    if (size > RENDER_MAX_BYTES) {
      throw new EarshotError('audio_too_long', 'The audio is over 25 MB; split the text into several calls.');
    }
    chunks.push(event.data);
  }
  return { audio: fromOggOpus(format, Buffer.concat(chunks)), credits: stream.credits };
}

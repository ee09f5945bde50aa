import { detailError, newElevenLabsId, validationError, type ValidationIssue } from '../errors.js';
import { isRecord, sendJson, type Exchange } from '../exchange.js';
import type { VoiceFixture } from '../fixtures/voices.js';
import { sendAudio } from '../audio-out.js';
import { wavSeconds } from '../memory.js';
import { defaultSoundSeconds, synthesizeSound } from '../sound.js';
import { synthesizeSpeech } from '../speech.js';
import { int16FromBuffer } from '../audio/resample.js';
import { parseOutputFormat } from '../audio/formats.js';
import type { ToolDeps } from './deps.js';
import type { UploadForm, UploadedFile } from './speech-to-text.js';
import { Checker, readOutputFormat } from './validate.js';

/** Instant cloning takes at most 25 samples (the real API's limit). */
export const CLONE_MAX_FILES = 25;
/** Voice Changer and music: credits per minute of audio (UNVERIFIED, see README). */
export const CREDITS_PER_MINUTE = 1000;
export const STS_MODELS = ['eleven_multilingual_sts_v2', 'eleven_english_sts_v2'] as const;
const PCM_16K = parseOutputFormat('pcm_16000')!;

const formExpected = (exchange: Exchange) =>
  sendJson(
    exchange.res,
    422,
    validationError([
      { loc: ['body'], msg: 'Expected a multipart/form-data body', type: 'model_attributes_type' },
    ]),
  );

function creditsFor(seconds: number): number {
  return Math.max(1, Math.ceil((seconds / 60) * CREDITS_PER_MINUTE));
}

/** POST /v1/voices/add (multipart: name, files[], description, labels as JSON, remove_background_noise). */
export function addVoice(exchange: Exchange, deps: ToolDeps, form: UploadForm | undefined): void {
  if (!form) return formExpected(exchange);
  const check = new Checker('body');
  const name = check.string('name', form.fields.name, true, 1, 100);
  const description = check.string('description', form.fields.description, false, 0, 500);
  check.boolean('remove_background_noise', form.fields.remove_background_noise);
  const files = form.files.filter((file) => file.field === 'files');
  let labels: Record<string, unknown> = {};
  if (form.fields.labels !== undefined) {
    try {
      const parsed: unknown = JSON.parse(form.fields.labels);
      if (!isRecord(parsed)) throw new Error('not an object');
      labels = parsed;
    } catch {
      check.issues.push({
        loc: ['body', 'labels'],
        msg: 'Labels must be a JSON object',
        type: 'value_error',
      });
    }
  }
  if (files.length === 0) check.missing('files');
  else if (files.some((file) => file.bytes.length === 0)) {
    check.issues.push({ loc: ['body', 'files'], msg: 'The uploaded file is empty.', type: 'value_error' });
  }
  if (!check.ok || !name) return sendJson(exchange.res, 422, validationError(check.issues));
  if (files.length > CLONE_MAX_FILES) {
    return sendJson(
      exchange.res,
      400,
      detailError(
        'validation_error',
        'too_many_files',
        `You can upload at most ${CLONE_MAX_FILES} samples.`,
        exchange.requestId,
      ),
    );
  }
  const label = (key: string, fallback: string) => (typeof labels[key] === 'string' ? labels[key] : fallback);
  const female = label('gender', '') === 'female';
  const voice: VoiceFixture = {
    voiceId: newElevenLabsId(),
    name,
    fliteVoice: female ? 'slt' : label('accent', '') === 'british' ? 'awb' : 'rms',
    labels: {
      accent: label('accent', 'american'),
      gender: female ? 'female' : 'male',
      age: label('age', 'middle_aged'),
      use_case: label('use_case', 'conversational'),
      descriptive: label('descriptive', 'cloned'),
    },
    description: description ?? '',
    category: 'cloned',
  };
  deps.voices.save(voice);
  sendJson(exchange.res, 200, { voice_id: voice.voiceId, requires_verification: false });
}

/** POST /v1/speech-to-speech/{voice_id}/stream (multipart: audio, model_id, voice_settings as JSON, …). */
export async function speechToSpeech(
  exchange: Exchange,
  deps: ToolDeps,
  form: UploadForm | undefined,
  voiceId: string,
): Promise<void> {
  if (!form) return formExpected(exchange);
  const check = new Checker('body');
  const format = readOutputFormat(exchange.url.searchParams, check.issues);
  check.oneOf('model_id', form.fields.model_id, STS_MODELS);
  check.boolean('remove_background_noise', form.fields.remove_background_noise);
  if (form.fields.voice_settings !== undefined) {
    try {
      if (!isRecord(JSON.parse(form.fields.voice_settings))) throw new Error('not an object');
    } catch {
      check.issues.push({
        loc: ['body', 'voice_settings'],
        msg: 'voice_settings must be a JSON object',
        type: 'value_error',
      } satisfies ValidationIssue);
    }
  }
  const audio = audioPart(form, check);
  if (!check.ok || !format || !audio) return sendJson(exchange.res, 422, validationError(check.issues));
  const voice = deps.voices.find(voiceId);
  if (!voice) {
    return sendJson(
      exchange.res,
      404,
      detailError(
        'not_found_error',
        'voice_not_found',
        `A voice with the voice_id ${voiceId} was not found.`,
        exchange.requestId,
      ),
    );
  }
  // What the source says, when the stand-in made it, is spoken again in the new voice; otherwise a sound.
  const known = deps.memory.recall(audio.bytes);
  const seconds = known?.seconds ?? wavSeconds(audio.bytes) ?? audio.bytes.length / 4000;
  const cost = creditsFor(seconds);
  deps.bill(cost);
  async function* pcm() {
    if (known?.kind === 'speech' && known.text.trim() !== '') {
      for await (const piece of synthesizeSpeech(
        deps.synthesizer,
        { text: known.text, fliteVoice: voice!.fliteVoice, speed: 1, format: PCM_16K },
        exchange.signal,
      )) {
        if (piece.audio.length > 0) yield int16FromBuffer(piece.audio);
      }
    } else {
      yield* synthesizeSound(
        `${voiceId}:${audio!.bytes.length}`,
        Math.max(0.5, Math.min(seconds, 60)),
        0.3,
        false,
      );
    }
  }
  const sent = await sendAudio(
    exchange,
    {
      format,
      pacing: deps.pacing,
      byteFault: deps.takeByteFault(),
      stream: true,
      headers: { 'character-cost': String(cost), 'history-item-id': newElevenLabsId() },
    },
    pcm(),
  );
  if (sent && known) deps.memory.remember(sent, { ...known, kind: known.kind });
}

/** POST /v1/music/stream (JSON: prompt, music_length_ms 3000–600000, force_instrumental, …). */
export async function musicStream(exchange: Exchange, deps: ToolDeps): Promise<void> {
  const { res, body } = exchange;
  const check = new Checker('body');
  const format = readOutputFormat(exchange.url.searchParams, check.issues);
  if (!isRecord(body)) {
    return sendJson(
      res,
      422,
      validationError([
        { loc: ['body'], msg: 'Input should be a valid dictionary', type: 'dict_type', input: body },
      ]),
    );
  }
  const prompt = check.string('prompt', body.prompt, false, 1, 4100);
  const lengthMs = check.number('music_length_ms', body.music_length_ms, 3000, 600_000, true);
  check.boolean('force_instrumental', body.force_instrumental);
  if (prompt === undefined && body.composition_plan === undefined) check.missing('prompt');
  if (!check.ok || !format || prompt === undefined) return sendJson(res, 422, validationError(check.issues));
  const seconds = lengthMs !== undefined ? lengthMs / 1000 : 3 + defaultSoundSeconds(prompt);
  const cost = creditsFor(seconds);
  deps.bill(cost);
  await sendAudio(
    exchange,
    {
      format,
      pacing: deps.pacing,
      byteFault: deps.takeByteFault(),
      stream: true,
      headers: { 'character-cost': String(cost), 'song-id': newElevenLabsId() },
    },
    synthesizeSound(`music:${prompt}`, seconds, 0.7, true),
  );
}

const ISOLATION_FILE_FORMATS = ['pcm_s16le_16', 'other'] as const;
/** Audio isolation has no output_format: it always answers MP3. */
const ISOLATION_OUTPUT = parseOutputFormat('mp3_44100_128')!;

/** POST /v1/audio-isolation/stream (multipart: audio, file_format): the voice alone, streamed as MP3. */
export async function audioIsolationStream(
  exchange: Exchange,
  deps: ToolDeps,
  form: UploadForm | undefined,
): Promise<void> {
  if (!form) return formExpected(exchange);
  const check = new Checker('body');
  const fileFormat = check.oneOf('file_format', form.fields.file_format, ISOLATION_FILE_FORMATS) ?? 'other';
  const audio = audioPart(form, check);
  if (!check.ok || !audio) return sendJson(exchange.res, 422, validationError(check.issues));
  const known = deps.memory.recall(audio.bytes);
  const seconds =
    known?.seconds ??
    (fileFormat === 'pcm_s16le_16' ? audio.bytes.length / 32_000 : undefined) ??
    wavSeconds(audio.bytes) ??
    audio.bytes.length / 4000;
  const cost = creditsFor(seconds);
  deps.bill(cost);
  // Speech the stand-in made comes back as that speech (a plain voice); anything else as a quiet tone.
  async function* pcm() {
    if (known?.kind === 'speech' && known.text.trim() !== '') {
      for await (const piece of synthesizeSpeech(
        deps.synthesizer,
        { text: known.text, fliteVoice: 'kal16', speed: 1, format: PCM_16K },
        exchange.signal,
      )) {
        if (piece.audio.length > 0) yield int16FromBuffer(piece.audio);
      }
    } else {
      yield* synthesizeSound(
        `isolated:${audio!.bytes.length}`,
        Math.max(0.5, Math.min(seconds, 60)),
        1,
        false,
      );
    }
  }
  await sendAudio(
    exchange,
    {
      format: ISOLATION_OUTPUT,
      pacing: deps.pacing,
      byteFault: deps.takeByteFault(),
      stream: true,
      headers: { 'character-cost': String(cost) },
    },
    pcm(),
  );
}

function audioPart(form: UploadForm, check: Checker): UploadedFile | undefined {
  const audio = form.files.findLast((file) => file.field === 'audio');
  if (!audio) check.missing('audio');
  else if (audio.bytes.length === 0) {
    check.issues.push({ loc: ['body', 'audio'], msg: 'The uploaded file is empty.', type: 'value_error' });
  }
  return audio;
}

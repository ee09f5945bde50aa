import {
  DEFAULT_OUTPUT_FORMAT,
  OUTPUT_FORMAT_IDS,
  parseOutputFormat,
  type OutputFormat,
} from '../audio/formats.js';
import { detailError, validationError, type ValidationIssue } from '../errors.js';
import { isRecord } from '../exchange.js';
import { DEFAULT_MODEL_ID, findModel, type ModelFixture } from '../fixtures/models.js';
import { DEFAULT_VOICE_SETTINGS, type VoiceFixture } from '../fixtures/voices.js';
import { voiceNotFound } from './catalog.js';

/** The models that apply `language_code` on text to speech. */
const LANGUAGE_CODE_MODELS = ['eleven_flash_v2_5', 'eleven_turbo_v2_5', 'eleven_v3'];

export interface TtsJob {
  readonly text: string;
  readonly voice: VoiceFixture;
  readonly model: ModelFixture;
  readonly format: OutputFormat;
  readonly speed: number;
  /** Credits billed: characters × the model's multiplier, rounded up. */
  readonly characterCost: number;
}

export type TtsValidation = { ok: true; job: TtsJob } | { ok: false; status: number; body: unknown };

/** Checks a text-to-speech request in the order the real API reports problems. */
export function validateTtsRequest(
  voiceId: string,
  query: URLSearchParams,
  body: unknown,
  requestId: string,
  findVoice: (voiceId: string) => VoiceFixture | undefined,
): TtsValidation {
  const issues: ValidationIssue[] = [];
  const formatId = query.get('output_format') ?? DEFAULT_OUTPUT_FORMAT;
  const format = parseOutputFormat(formatId);
  if (!format) {
    issues.push({
      loc: ['query', 'output_format'],
      msg: `Input should be ${OUTPUT_FORMAT_IDS.map((id) => `'${id}'`).join(', ')}`,
      type: 'enum',
      input: formatId,
    });
  }
  if (!isRecord(body)) {
    issues.push({ loc: ['body'], msg: 'Input should be a valid dictionary', type: 'dict_type', input: body });
    return { ok: false, status: 422, body: validationError(issues) };
  }
  const text = body.text;
  if (text === undefined) issues.push({ loc: ['body', 'text'], msg: 'Field required', type: 'missing' });
  else if (typeof text !== 'string') {
    issues.push({
      loc: ['body', 'text'],
      msg: 'Input should be a valid string',
      type: 'string_type',
      input: text,
    });
  }
  const modelId = body.model_id ?? DEFAULT_MODEL_ID;
  if (typeof modelId !== 'string') {
    issues.push({
      loc: ['body', 'model_id'],
      msg: 'Input should be a valid string',
      type: 'string_type',
      input: modelId,
    });
  }
  const languageCode = body.language_code ?? null;
  if (languageCode !== null && typeof languageCode !== 'string') {
    issues.push({
      loc: ['body', 'language_code'],
      msg: 'Input should be a valid string',
      type: 'string_type',
      input: languageCode,
    });
  }
  const speed = readSpeed(body.voice_settings, issues);
  for (const key of ['previous_request_ids', 'next_request_ids'] as const)
    checkRequestIds(body[key], key, issues);
  if (issues.length > 0 || typeof text !== 'string' || typeof modelId !== 'string' || !format) {
    return { ok: false, status: 422, body: validationError(issues) };
  }
  const model = findModel(modelId);
  if (!model) {
    return fail(
      400,
      'validation_error',
      'model_not_found',
      `A model with model ID ${modelId} does not exist.`,
      requestId,
    );
  }
  const voice = findVoice(voiceId);
  if (!voice) return { ok: false, status: 404, body: voiceNotFound(voiceId, requestId) };
  // Flash/Turbo v2.5 and v3 apply language_code and refuse a language they lack (400, seen live in 2026);
  // Multilingual v2 and older ignore it (ElevenLabs support, 2026: "simply ignored").
  if (
    typeof languageCode === 'string' &&
    LANGUAGE_CODE_MODELS.includes(model.modelId) &&
    !model.languages.some(([code]) => code === languageCode)
  ) {
    return fail(
      400,
      'validation_error',
      'unsupported_language',
      `Model '${model.modelId}' does not support language_code '${languageCode}'.`,
      requestId,
    );
  }
  if (text.length > model.maximumTextLength) {
    return fail(
      400,
      'validation_error',
      'max_character_limit_exceeded',
      `You are sending ${text.length} characters in a single request, but the maximum allowed is ${model.maximumTextLength} characters for ${model.modelId}.`,
      requestId,
    );
  }
  const characterCost = Math.ceil(text.length * model.costMultiplier);
  return { ok: true, job: { text, voice, model, format, speed, characterCost } };
}

function readSpeed(settings: unknown, issues: ValidationIssue[]): number {
  if (settings === undefined || settings === null) return DEFAULT_VOICE_SETTINGS.speed;
  if (!isRecord(settings)) {
    issues.push({
      loc: ['body', 'voice_settings'],
      msg: 'Input should be a valid dictionary',
      type: 'dict_type',
      input: settings,
    });
    return 1;
  }
  const speed = settings.speed ?? DEFAULT_VOICE_SETTINGS.speed;
  if (typeof speed !== 'number' || !Number.isFinite(speed)) {
    issues.push({
      loc: ['body', 'voice_settings', 'speed'],
      msg: 'Input should be a valid number',
      type: 'float_type',
      input: speed,
    });
    return 1;
  }
  if (speed < 0.7) {
    issues.push({
      loc: ['body', 'voice_settings', 'speed'],
      msg: 'Input should be greater than or equal to 0.7',
      type: 'greater_than_equal',
      input: speed,
    });
  }
  if (speed > 1.2) {
    issues.push({
      loc: ['body', 'voice_settings', 'speed'],
      msg: 'Input should be less than or equal to 1.2',
      type: 'less_than_equal',
      input: speed,
    });
  }
  return speed;
}

function fail(status: number, type: string, code: string, message: string, requestId: string): TtsValidation {
  return { ok: false, status, body: detailError(type, code, message, requestId) };
}

/** Request stitching: at most three request ids each way. Ids the stand-in never issued are accepted. */
function checkRequestIds(value: unknown, key: string, issues: ValidationIssue[]): void {
  if (value === undefined || value === null) return;
  if (!Array.isArray(value) || value.some((id) => typeof id !== 'string')) {
    issues.push({
      loc: ['body', key],
      msg: 'Input should be a valid list of strings',
      type: 'list_type',
      input: value,
    });
    return;
  }
  if (value.length > 3) {
    issues.push({
      loc: ['body', key],
      msg: `List should have at most 3 items after validation, not ${value.length}`,
      type: 'too_long',
      input: value,
    });
  }
}

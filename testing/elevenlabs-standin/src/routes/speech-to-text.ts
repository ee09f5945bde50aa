import { newElevenLabsId, validationError, type ValidationIssue } from '../errors.js';
import { sendJson, type Exchange } from '../exchange.js';
import { wavSeconds, type KnownTranscript, type TranscriptWord } from '../memory.js';
import { mulberry32, seedOf } from '../sound.js';
import type { ToolDeps } from './deps.js';
import { Checker } from './validate.js';
import { createHash } from 'node:crypto';

const MODELS = ['scribe_v1', 'scribe_v2'] as const;
const GRANULARITIES = ['none', 'word', 'character'] as const;

/** Parsed multipart fields (strings) and the uploaded file, if any. */
export interface UploadedFile {
  readonly field: string;
  readonly name: string;
  readonly type: string;
  readonly bytes: Buffer;
}

export interface UploadForm {
  readonly fields: Readonly<Record<string, string>>;
  /** The part named `file` (speech to text). */
  readonly file: UploadedFile | undefined;
  /** Every file part, in order (voice cloning sends several `files`; speech to speech one `audio`). */
  readonly files: readonly UploadedFile[];
}

/** Parses a multipart/form-data body with the platform's own parser (undici's `Request.formData()`). */
export async function parseMultipart(contentType: string, raw: Buffer): Promise<UploadForm | undefined> {
  try {
    const form = await new Request('http://127.0.0.1/', {
      method: 'POST',
      headers: { 'content-type': contentType },
      body: raw,
    }).formData();
    const fields: Record<string, string> = {};
    const files: UploadedFile[] = [];
    for (const [key, value] of form.entries()) {
      if (typeof value === 'string') fields[key] = value;
      else
        files.push({
          field: key,
          name: value.name,
          type: value.type,
          bytes: Buffer.from(await value.arrayBuffer()),
        });
    }
    return { fields, file: files.findLast((file) => file.field === 'file'), files };
  } catch {
    return undefined;
  }
}

/** POST /v1/speech-to-text (multipart). */
export function speechToText(exchange: Exchange, deps: ToolDeps, form: UploadForm | undefined): void {
  const { res } = exchange;
  if (!form) {
    return sendJson(
      res,
      422,
      validationError([
        { loc: ['body'], msg: 'Expected a multipart/form-data body', type: 'model_attributes_type' },
      ]),
    );
  }
  const { fields, file } = form;
  const check = new Checker('body');
  const modelId =
    fields.model_id === undefined
      ? (check.missing('model_id'), undefined)
      : check.oneOf('model_id', fields.model_id, MODELS);
  const languageCode = check.string('language_code', fields.language_code, false);
  const diarize = check.boolean('diarize', fields.diarize) ?? false;
  const numSpeakers = check.number('num_speakers', fields.num_speakers, 1, 32, true);
  const tagEvents = check.boolean('tag_audio_events', fields.tag_audio_events) ?? true;
  const granularity =
    check.oneOf('timestamps_granularity', fields.timestamps_granularity, GRANULARITIES) ?? 'word';
  const cloudUrl = fields.cloud_storage_url ?? fields.source_url;
  if (!file && !cloudUrl) {
    check.issues.push({
      loc: ['body', 'file'],
      msg: 'Either file or cloud_storage_url must be provided.',
      type: 'value_error',
    } satisfies ValidationIssue);
  } else if (file && cloudUrl) {
    check.issues.push({
      loc: ['body'],
      msg: 'Provide either file or cloud_storage_url, not both.',
      type: 'value_error',
    } satisfies ValidationIssue);
  } else if (file && file.bytes.length === 0) {
    check.issues.push({
      loc: ['body', 'file'],
      msg: 'The uploaded file is empty.',
      type: 'value_error',
    } satisfies ValidationIssue);
  }
  if (!check.ok || !modelId) return sendJson(res, 422, validationError(check.issues));

  let known: KnownTranscript | undefined;
  let seconds: number;
  if (file) {
    known = deps.memory.recall(file.bytes);
    seconds = known?.seconds ?? wavSeconds(file.bytes) ?? file.bytes.length / 16_000; // assume 128 kbit/s
  } else {
    const item = historyItemOf(cloudUrl!, deps);
    known = item ? deps.memory.recall(item) : undefined;
    seconds = known?.seconds ?? 10;
  }
  const seed = file ? createHash('sha256').update(file.bytes).digest('hex') : cloudUrl!;
  const transcript = known ?? inventTranscript(seed, seconds);
  let words = transcript.words.map((word) => ({ ...word }));
  if (!tagEvents) words = words.filter((word) => word.type !== 'audio_event');
  words = words.map((word) => {
    const out: TranscriptWord & { characters?: unknown } = { ...word };
    if (!diarize) delete out.speaker_id;
    else if (numSpeakers === 1) out.speaker_id = 'speaker_0';
    if (granularity === 'character' && word.type !== 'spacing') out.characters = characterTimings(word);
    return out;
  });
  const wire = words.map((word) => {
    if (granularity !== 'none') return word;
    const { start: _start, end: _end, ...rest } = word;
    return rest;
  });
  sendJson(res, 200, {
    language_code: languageCode ?? 'eng',
    language_probability: known ? 0.99 : 0.62,
    text: words
      .map((word) => word.text)
      .join('')
      .trim(),
    words: wire,
    transcription_id: newElevenLabsId(),
    audio_duration_secs: Math.round(seconds * 1000) / 1000,
  });
}

/** `cloud_storage_url` is never fetched; a history-audio URL of this stand-in is resolved in memory. */
function historyItemOf(url: string, deps: ToolDeps): Buffer | undefined {
  const match = /\/v1\/history\/([^/]+)\/audio\/?$/.exec(url);
  return match ? deps.history.find(decodeURIComponent(match[1]!))?.audio : undefined;
}

function characterTimings(word: TranscriptWord) {
  const chars = Array.from(word.text);
  const step = (word.end - word.start) / Math.max(1, chars.length);
  return chars.map((text, i) => ({
    text,
    start: Math.round((word.start + i * step) * 1000) / 1000,
    end: Math.round((word.start + (i + 1) * step) * 1000) / 1000,
  }));
}

const FILLER = (
  'the of and to a in that it is was for on are with as this be at by from have or one had not but what all ' +
  'were when we there can an your which their said if do will each about how up out them then she many some so ' +
  'these would other into has more her two like him see time could no make than first been its who now people my'
).split(' ');

/** Unknown audio: deterministic filler words at about 2.5 words a second for the clip's duration. */
function inventTranscript(seed: string, seconds: number): KnownTranscript {
  const random = mulberry32(seedOf(seed));
  const words: TranscriptWord[] = [];
  let t = 0.1;
  while (t + 0.25 < seconds) {
    const length = 0.18 + random() * 0.3;
    const end = Math.min(seconds, t + length);
    if (words.length > 0)
      words.push({
        text: ' ',
        start: words.at(-1)!.end,
        end: round3(t),
        type: 'spacing',
        speaker_id: 'speaker_0',
        logprob: 0,
      });
    words.push({
      text: FILLER[Math.floor(random() * FILLER.length)]!,
      start: round3(t),
      end: round3(end),
      type: 'word',
      speaker_id: 'speaker_0',
      logprob: -(random() * 1.5),
    });
    t = end + 0.05 + random() * 0.15;
  }
  return { text: words.map((word) => word.text).join(''), words, seconds, kind: 'speech' };
}

const round3 = (value: number) => Math.round(value * 1000) / 1000;

import type { Alignment } from '../alignment.js';
import { sendAudio } from '../audio-out.js';
import { parseOutputFormat } from '../audio/formats.js';
import { detailError, newElevenLabsId, validationError } from '../errors.js';
import { isRecord, sendJson, type Exchange } from '../exchange.js';
import { findModel } from '../fixtures/models.js';
import type { VoiceFixture } from '../fixtures/voices.js';
import { wordsFromSpans, type SpokenSpan } from '../memory.js';
import { synthesizeSpeech } from '../speech.js';
import { int16FromBuffer } from '../audio/resample.js';
import { voiceNotFound } from './catalog.js';
import type { ToolDeps } from './deps.js';
import { Checker, readOutputFormat } from './validate.js';

const PCM_16K = parseOutputFormat('pcm_16000')!;
const DIALOGUE_MODEL = 'eleven_v3';
const MAX_VOICES = 10;

/** POST /v1/text-to-dialogue[/stream]: every input spoken in its voice, in order, as one clip. */
export async function textToDialogue(exchange: Exchange, deps: ToolDeps, stream: boolean): Promise<void> {
  const { res, body, requestId } = exchange;
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
  const inputs: { text: string; voiceId: string }[] = [];
  if (body.inputs === undefined) check.missing('inputs');
  else if (!Array.isArray(body.inputs)) {
    check.issues.push({
      loc: ['body', 'inputs'],
      msg: 'Input should be a valid list',
      type: 'list_type',
      input: body.inputs,
    });
  } else {
    body.inputs.forEach((input: unknown, index) => {
      if (!isRecord(input)) {
        check.issues.push({
          loc: ['body', 'inputs', index],
          msg: 'Input should be a valid dictionary',
          type: 'dict_type',
          input,
        });
        return;
      }
      const text = input.text;
      const voiceId = input.voice_id;
      if (typeof text !== 'string')
        check.issues.push({
          loc: ['body', 'inputs', index, 'text'],
          msg: text === undefined ? 'Field required' : 'Input should be a valid string',
          type: text === undefined ? 'missing' : 'string_type',
        });
      if (typeof voiceId !== 'string')
        check.issues.push({
          loc: ['body', 'inputs', index, 'voice_id'],
          msg: voiceId === undefined ? 'Field required' : 'Input should be a valid string',
          type: voiceId === undefined ? 'missing' : 'string_type',
        });
      if (typeof text === 'string' && typeof voiceId === 'string') inputs.push({ text, voiceId });
    });
    if (body.inputs.length === 0) {
      check.issues.push({
        loc: ['body', 'inputs'],
        msg: 'List should have at least 1 item after validation, not 0',
        type: 'too_short',
        input: [],
      });
    }
  }
  const modelId = check.string('model_id', body.model_id, false) ?? DIALOGUE_MODEL;
  for (const key of ['previous_request_ids', 'next_request_ids']) {
    const ids = body[key];
    if (Array.isArray(ids) && ids.length > 3) {
      check.issues.push({
        loc: ['body', key],
        msg: `List should have at most 3 items after validation, not ${ids.length}`,
        type: 'too_long',
        input: ids,
      });
    }
  }
  if (!check.ok || !format) return sendJson(res, 422, validationError(check.issues));
  const model = findModel(modelId);
  if (!model || modelId !== DIALOGUE_MODEL) {
    return sendJson(
      res,
      400,
      detailError(
        'validation_error',
        'model_not_found',
        `Model ${modelId} is not supported for text to dialogue; use ${DIALOGUE_MODEL}.`,
        requestId,
      ),
    );
  }
  const voices: VoiceFixture[] = [];
  for (const input of inputs) {
    const voice = deps.voices.find(input.voiceId);
    if (!voice) return sendJson(res, 404, voiceNotFound(input.voiceId, requestId));
    voices.push(voice);
  }
  if (new Set(inputs.map((input) => input.voiceId)).size > MAX_VOICES) {
    return sendJson(
      res,
      400,
      detailError(
        'validation_error',
        'too_many_voices',
        `A dialogue may use at most ${MAX_VOICES} different voices.`,
        requestId,
      ),
    );
  }
  const characters = inputs.reduce((sum, input) => sum + input.text.length, 0);
  if (characters > model.maximumTextLength) {
    return sendJson(
      res,
      400,
      detailError(
        'validation_error',
        'max_character_limit_exceeded',
        `You are sending ${characters} characters in a single request, but the maximum allowed is ${model.maximumTextLength} characters for ${modelId}.`,
        requestId,
      ),
    );
  }
  const cost = Math.ceil(characters * model.costMultiplier);
  const from = deps.usage();
  deps.bill(cost);
  const historyItemId = newElevenLabsId();
  const speakers = new Map<string, string>();
  const spans: SpokenSpan[] = [];
  let offset = 0;
  const signal = exchange.signal;
  const synthesizer = deps.synthesizer;
  async function* pcm(): AsyncGenerator<Int16Array> {
    for (const [index, input] of inputs.entries()) {
      const voice = voices[index]!;
      if (!speakers.has(voice.voiceId)) speakers.set(voice.voiceId, `speaker_${speakers.size}`);
      // eleven_v3 audio tags ([laughs], [whispers]) direct the voice; they are not spoken.
      const spoken = input.text
        .replace(/\[[^\]]*\]/g, ' ')
        .replace(/\s+/g, ' ')
        .trim();
      if (spoken === '') continue;
      const alignment: Alignment = {
        characters: [],
        character_start_times_seconds: [],
        character_end_times_seconds: [],
      };
      let seconds = 0;
      for await (const piece of synthesizeSpeech(
        synthesizer,
        { text: spoken, fliteVoice: voice.fliteVoice, speed: 1, format: PCM_16K },
        signal,
      )) {
        alignment.characters.push(...piece.alignment.characters);
        alignment.character_start_times_seconds.push(
          ...piece.alignment.character_start_times_seconds.map((t) => t + offset),
        );
        alignment.character_end_times_seconds.push(
          ...piece.alignment.character_end_times_seconds.map((t) => t + offset),
        );
        seconds = piece.endSeconds;
        if (piece.audio.length > 0) yield int16FromBuffer(piece.audio);
      }
      offset += seconds;
      spans.push({ alignment, speaker: speakers.get(voice.voiceId)! });
    }
  }
  const audio = await sendAudio(
    exchange,
    {
      format,
      pacing: deps.pacing,
      byteFault: deps.takeByteFault(),
      stream,
      headers: { 'character-cost': String(cost), 'history-item-id': historyItemId },
    },
    pcm(),
  );
  if (!audio) return;
  const { text, words } = wordsFromSpans(spans);
  deps.memory.remember(audio, { text, words, seconds: offset, kind: 'speech' });
  deps.history.add({
    historyItemId,
    requestId,
    voiceId: voices[0]!.voiceId,
    voiceName: voices[0]!.name,
    voiceCategory: voices[0]!.category ?? 'premade',
    modelId,
    text: inputs.map((input) => input.text).join('\n'),
    dateUnix: Math.floor(Date.now() / 1000),
    characterCountFrom: from,
    characterCountTo: from + cost,
    contentType: format.codec === 'mp3' ? 'audio/mpeg' : 'application/octet-stream',
    outputFormat: format.id,
    settings: isRecord(body.settings) ? body.settings : null,
    dialogue: inputs.map((input, index) => ({
      text: input.text,
      voice_id: input.voiceId,
      voice_name: voices[index]!.name,
    })),
    audio,
  });
}

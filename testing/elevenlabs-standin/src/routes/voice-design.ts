import { detailError, newElevenLabsId, validationError } from '../errors.js';
import { isRecord, sendJson, type Exchange } from '../exchange.js';
import { voiceWireObject, type VoiceFixture } from '../fixtures/voices.js';
import { wordsFromSpans } from '../memory.js';
import { synthesizeWhole } from '../speech.js';
import type { ToolDeps } from './deps.js';
import { Checker, readOutputFormat } from './validate.js';
import type { OutputFormat } from '../audio/formats.js';

type FliteVoice = VoiceFixture['fliteVoice'];

/** Flite voices for the three previews, the closest to the description first. */
export function previewVoices(description: string): FliteVoice[] {
  const d = description.toLowerCase();
  const first: FliteVoice = /\b(female|woman|girl|lady|her|she)\b/.test(d)
    ? 'slt'
    : /\b(british|scottish|english|irish|uk)\b/.test(d)
      ? 'awb'
      : /\b(deep|old|elderly|gravelly|low|baritone)\b/.test(d)
        ? 'rms'
        : 'kal16';
  const order: FliteVoice[] = [
    first,
    ...(['slt', 'kal16', 'rms', 'awb'] as const).filter((voice) => voice !== first),
  ];
  return order.slice(0, 3);
}

function mediaTypeOf(format: OutputFormat): string {
  switch (format.codec) {
    case 'mp3':
      return 'audio/mpeg';
    case 'pcm':
      return 'audio/pcm';
    case 'opus':
      return 'audio/ogg';
    default:
      return 'audio/basic';
  }
}

/** POST /v1/text-to-voice/design and /v1/text-to-voice/create-previews */
export async function designVoice(exchange: Exchange, deps: ToolDeps): Promise<void> {
  const { res, body } = exchange;
  const check = new Checker('body');
  const format = readOutputFormat(exchange.url.searchParams, check.issues, 'mp3_44100_192');
  if (!isRecord(body)) {
    return sendJson(
      res,
      422,
      validationError([
        { loc: ['body'], msg: 'Input should be a valid dictionary', type: 'dict_type', input: body },
      ]),
    );
  }
  const description = check.string('voice_description', body.voice_description, true, 20, 1000);
  const auto = check.boolean('auto_generate_text', body.auto_generate_text) ?? false;
  let text = check.string('text', body.text, false, 100, 1000);
  if (text === undefined && !auto && check.ok) {
    check.issues.push({
      loc: ['body', 'text'],
      msg: 'Provide text (100–1000 characters) or set auto_generate_text.',
      type: 'value_error',
    });
  }
  if (!check.ok || description === undefined || !format)
    return sendJson(res, 422, validationError(check.issues));
  text ??= autoText(description);
  const cost = text.length;
  deps.bill(cost);
  const previews = [];
  for (const fliteVoice of previewVoices(description)) {
    const clip = await synthesizeWhole(
      deps.synthesizer,
      { text, fliteVoice, speed: 1, format },
      exchange.signal,
    );
    const generatedVoiceId = newElevenLabsId();
    deps.voices.addPreview({ generatedVoiceId, fliteVoice, description });
    const { words } = wordsFromSpans([{ alignment: clip.alignment, speaker: 'speaker_0' }]);
    deps.memory.remember(clip.audio, { text, words, seconds: clip.seconds, kind: 'speech' });
    previews.push({
      audio_base_64: clip.audio.toString('base64'),
      generated_voice_id: generatedVoiceId,
      media_type: mediaTypeOf(format),
      duration_secs: Math.round(clip.seconds * 1000) / 1000,
      language: 'en',
    });
  }
  const schedule = deps.pacing.firstByteLatencyMs;
  if (schedule > 0) await new Promise((resolve) => setTimeout(resolve, schedule));
  sendJson(res, 200, { previews, text }, { 'character-cost': String(cost) });
}

function autoText(description: string): string {
  // Just over the 100-character minimum, like a short generated sample.
  const subject = description.split(/[.,;]/)[0]!.trim().slice(0, 60);
  let text = `Hello, this is a preview of ${subject}. Listen to how it sounds, then pick the preview you like best.`;
  while (text.length < 100) text += ' Thank you.';
  return text;
}

/** POST /v1/text-to-voice: saves a preview as a voice of the account. */
export function createVoiceFromPreview(exchange: Exchange, deps: ToolDeps): void {
  const { res, body, requestId } = exchange;
  const check = new Checker('body');
  if (!isRecord(body)) {
    return sendJson(
      res,
      422,
      validationError([
        { loc: ['body'], msg: 'Input should be a valid dictionary', type: 'dict_type', input: body },
      ]),
    );
  }
  const name = check.string('voice_name', body.voice_name, true, 1, 100);
  const description = check.string('voice_description', body.voice_description, true, 20, 1000);
  const generatedVoiceId = check.string('generated_voice_id', body.generated_voice_id, true);
  const labels = isRecord(body.labels) ? body.labels : {};
  if (!check.ok || !name || !description || !generatedVoiceId)
    return sendJson(res, 422, validationError(check.issues));
  const preview = deps.voices.preview(generatedVoiceId);
  if (!preview) {
    return sendJson(
      res,
      404,
      detailError(
        'not_found_error',
        'generated_voice_not_found',
        `No voice preview with the generated_voice_id ${generatedVoiceId} was found.`,
        requestId,
      ),
    );
  }
  const label = (key: string, fallback: string) => (typeof labels[key] === 'string' ? labels[key] : fallback);
  const voice: VoiceFixture = {
    voiceId: newElevenLabsId(),
    name,
    fliteVoice: preview.fliteVoice,
    labels: {
      accent: label('accent', preview.fliteVoice === 'awb' ? 'british' : 'american'),
      gender:
        label('gender', preview.fliteVoice === 'slt' ? 'female' : 'male') === 'female' ? 'female' : 'male',
      age: label('age', 'middle_aged'),
      use_case: label('use_case', 'conversational'),
      descriptive: label('descriptive', 'designed'),
    },
    description,
    category: 'generated',
  };
  deps.voices.save(voice);
  sendJson(res, 200, voiceWireObject(voice, deps.baseUrl, true));
}

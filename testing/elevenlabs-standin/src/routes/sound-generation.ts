import { sendAudio } from '../audio-out.js';
import { detailError, validationError } from '../errors.js';
import { isRecord, sendJson, type Exchange } from '../exchange.js';
import { defaultSoundSeconds, synthesizeSound } from '../sound.js';
import type { ToolDeps } from './deps.js';
import { Checker, readOutputFormat } from './validate.js';

export const SOUND_MODEL_ID = 'eleven_text_to_sound_v2';
/** Credits per second of a sound with a set duration, and per sound with an automatic one (UNVERIFIED, see README). */
export const SOUND_CREDITS_PER_SECOND = 40;
export const SOUND_CREDITS_AUTO = 200;

/** POST /v1/sound-generation */
export async function soundGeneration(exchange: Exchange, deps: ToolDeps): Promise<void> {
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
  const text = check.string('text', body.text, true);
  const duration = check.number('duration_seconds', body.duration_seconds, 0.5, 30);
  const influence = check.number('prompt_influence', body.prompt_influence, 0, 1) ?? 0.3;
  const loop = check.boolean('loop', body.loop) ?? false;
  check.oneOf('model_id', body.model_id, [SOUND_MODEL_ID]);
  if (!check.ok || text === undefined || !format) return sendJson(res, 422, validationError(check.issues));
  if (text.trim() === '') {
    return sendJson(
      res,
      400,
      detailError('validation_error', 'invalid_text', 'The text prompt must not be empty.', requestId),
    );
  }
  const seconds = duration ?? defaultSoundSeconds(text);
  const cost = duration === undefined ? SOUND_CREDITS_AUTO : Math.ceil(seconds * SOUND_CREDITS_PER_SECOND);
  deps.bill(cost);
  const audio = await sendAudio(
    exchange,
    {
      format,
      pacing: deps.pacing,
      byteFault: deps.takeByteFault(),
      stream: false,
      headers: { 'character-cost': String(cost) },
    },
    synthesizeSound(text, seconds, influence, loop),
  );
  if (audio) {
    deps.memory.remember(audio, {
      text: `(${text})`,
      words: [
        {
          text: `(${text})`,
          start: 0,
          end: Math.round(seconds * 1000) / 1000,
          type: 'audio_event',
          logprob: 0,
        },
      ],
      seconds,
      kind: 'sound',
    });
  }
}

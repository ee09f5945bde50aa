import type { OutputFormat } from '../audio/output-formats.js';
import { EarshotError } from '../errors.js';
import { fromElevenLabsError } from './elevenlabs-errors.js';
import type { ElevenLabsHttp } from './elevenlabs-http.js';
import type { SynthesisRequest } from './types.js';
import { creditsCharged } from './elevenlabs-credits.js';

/**
 * One whole clip in an asked `output_format` (text_to_speech's `output_format`): the plain, non-streaming
 * endpoint, its body read up to `maxBytes` (more is refused, not buffered).
 */
export async function renderClip(
  http: ElevenLabsHttp,
  request: SynthesisRequest & { readonly modelId: string },
  format: OutputFormat,
  maxBytes: number,
  signal: AbortSignal,
): Promise<{ audio: Buffer; credits: number }> {
  let response;
  try {
    response = await http.request(`v1/text-to-speech/${encodeURIComponent(request.voiceId)}`, {
      method: 'POST',
      query: { output_format: format.id },
      json: {
        text: request.text,
        model_id: request.modelId,
        ...(request.languageCode ? { language_code: request.languageCode } : {}),
        ...(request.settings && Object.keys(request.settings).length > 0
          ? { voice_settings: request.settings }
          : {}),
      },
      signal,
    });
  } catch (error) {
    throw fromElevenLabsError(error, { voiceId: request.voiceId });
  }
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of response.body as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > maxBytes) {
        response.body.destroy();
        throw new EarshotError(
          'audio_too_long',
          `The audio is over ${Math.round(maxBytes / 1024 / 1024)} MB in ${format.id}; split the text or pick a smaller format.`,
        );
      }
      chunks.push(chunk);
    }
  } catch (error) {
    if (error instanceof EarshotError) throw error;
    throw new EarshotError('upstream_interrupted', 'ElevenLabs broke off while sending the audio; retry.', {
      cause: error,
    });
  }
  return {
    audio: Buffer.concat(chunks),
    credits: creditsCharged(response.headers.get('character-cost'), request.text.length),
  };
}

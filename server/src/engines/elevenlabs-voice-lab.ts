import type { ElevenLabsClient } from '@elevenlabs/elevenlabs-js';
import { OGG_OPUS } from '@earshot/protocol';
import { Mp3ToPcm } from '../audio/mp3-pcm.js';
import { EarshotError } from '../errors.js';
import { fromElevenLabsError } from './elevenlabs-errors.js';
import type { AudioUpload, MusicRequest, SpeechToSpeechRequest, VoiceCloneRequest } from './studio.js';
import type { SynthesisEvent, SynthesisStream } from './types.js';
import { creditsCharged } from './elevenlabs-credits.js';

/** What players take without transcoding: the format speak asks for. */
const OPUS_OUTPUT = 'opus_48000_32';
const OPUS_FORMAT = { mimeType: OGG_OPUS, sampleRate: 48_000, channels: 1 } as const;

type Client = () => Promise<ElevenLabsClient>;

function upload(file: AudioUpload) {
  return { data: file.audio, filename: file.fileName, contentType: file.mimeType };
}

function creditsOf(headers: Headers): number {
  return creditsCharged(headers.get('character-cost'), 0);
}

/** Instant voice cloning (`POST /v1/voices/add`, multipart). */
export async function cloneVoice(client: Client, request: VoiceCloneRequest) {
  try {
    const result = await (
      await client()
    ).voices.ivc.create({
      name: request.name,
      files: request.samples.map(upload),
      description: request.description,
      labels: request.labels ? { ...request.labels } : undefined,
      removeBackgroundNoise: request.removeBackgroundNoise,
    });
    return { id: result.voiceId, name: request.name };
  } catch (error) {
    throw fromElevenLabsError(error, {});
  }
}

/** `POST /v1/speech-to-speech/{voice_id}/stream` (multipart), Ogg Opus out. */
export async function speechToSpeech(
  client: Client,
  request: SpeechToSpeechRequest,
  signal: AbortSignal,
): Promise<SynthesisStream> {
  const settings = request.settings;
  const voiceSettings = settings && Object.keys(settings).length > 0 ? JSON.stringify(settings) : undefined;
  let response;
  try {
    response = await (
      await client()
    ).speechToSpeech
      .stream(
        request.voiceId,
        {
          audio: upload(request.source),
          modelId: request.modelId,
          outputFormat: OPUS_OUTPUT,
          voiceSettings,
          removeBackgroundNoise: request.removeBackgroundNoise,
        },
        { abortSignal: signal },
      )
      .withRawResponse();
  } catch (error) {
    throw fromElevenLabsError(error, { voiceId: request.voiceId });
  }
  return opusStream(response, signal);
}

/** `POST /v1/music/stream`: composed and streamed, Ogg Opus out. */
export async function composeMusic(
  client: Client,
  request: MusicRequest,
  signal: AbortSignal,
): Promise<SynthesisStream> {
  let response;
  try {
    response = await (
      await client()
    ).music
      .stream(
        {
          prompt: request.prompt,
          musicLengthMs: request.lengthMs,
          forceInstrumental: request.forceInstrumental,
          outputFormat: OPUS_OUTPUT,
        },
        { abortSignal: signal },
      )
      .withRawResponse();
  } catch (error) {
    throw fromElevenLabsError(error, {});
  }
  return opusStream(response, signal);
}

/** Isolated speech as 24 kHz PCM: ElevenLabs answers audio isolation only in MP3, decoded here as it arrives. */
export const ISOLATED_SAMPLE_RATE = 24_000;

/** `POST /v1/audio-isolation/stream` (multipart): the source without its background, decoded from MP3. */
export async function isolateAudio(
  client: Client,
  source: AudioUpload,
  signal: AbortSignal,
): Promise<SynthesisStream> {
  let response;
  try {
    response = await (
      await client()
    ).audioIsolation
      .stream({ audio: upload(source), fileFormat: 'other' }, { abortSignal: signal })
      .withRawResponse();
  } catch (error) {
    throw fromElevenLabsError(error, {});
  }
  const headers = response.rawResponse.headers;
  return {
    format: { mimeType: 'audio/pcm', sampleRate: ISOLATED_SAMPLE_RATE, channels: 1 },
    requestId: headers.get('request-id') ?? undefined,
    credits: creditsOf(headers),
    events: decodedMp3(audioEvents(response.data, signal)),
  };
}

async function* decodedMp3(events: AsyncIterable<SynthesisEvent>): AsyncIterable<SynthesisEvent> {
  const decoder = await Mp3ToPcm.create(ISOLATED_SAMPLE_RATE);
  try {
    for await (const event of events) {
      if (event.type !== 'audio') continue;
      let pcm: Buffer;
      try {
        pcm = decoder.push(event.data);
      } catch (error) {
        throw new EarshotError('upstream_error', 'ElevenLabs sent audio Earshot could not decode as MP3.', {
          cause: error,
        });
      }
      if (pcm.length > 0) yield { type: 'audio', data: pcm };
    }
  } finally {
    decoder.close();
  }
}

function opusStream(
  response: { data: ReadableStream<Uint8Array>; rawResponse: { headers: Headers } },
  signal: AbortSignal,
): SynthesisStream {
  const headers = response.rawResponse.headers;
  return {
    format: OPUS_FORMAT,
    requestId: headers.get('request-id') ?? undefined,
    credits: creditsOf(headers),
    events: audioEvents(response.data, signal),
  };
}

/** An upstream body as audio events; a body that breaks off is upstream_interrupted, a stop is cancelled. */
export async function* audioEvents(
  stream: ReadableStream<Uint8Array>,
  signal: AbortSignal,
): AsyncIterable<SynthesisEvent> {
  const reader = stream.getReader();
  let finished = false;
  try {
    for (;;) {
      let result: Awaited<ReturnType<typeof reader.read>>;
      try {
        result = await reader.read();
      } catch (error) {
        if (signal.aborted) throw new EarshotError('cancelled', 'Stopped.', { cause: error });
        throw new EarshotError('upstream_interrupted', 'The ElevenLabs audio stream broke off; try again.', {
          cause: error,
        });
      }
      if (result.done) {
        finished = true;
        return;
      }
      if (result.value.byteLength > 0) yield { type: 'audio', data: result.value };
    }
  } finally {
    if (!finished) await reader.cancel().catch(() => undefined);
    reader.releaseLock();
  }
}

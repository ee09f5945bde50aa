import {
  FLITE_SAMPLE_RATE,
  FLITE_VOICES,
  FliteError,
  FliteSynthesizer,
  OggOpusMuxer,
  type FliteSynthesizerOptions,
} from '@earshot/flite';
import type { Model, Voice } from '@earshot/protocol';
import { OGG_OPUS_FORMAT } from '../audio/formats.js';
import { EarshotError } from '../errors.js';
import type {
  AlignmentEvent,
  SynthesisEvent,
  SynthesisRequest,
  SynthesisStream,
  VoiceEngine,
} from './types.js';

const OFFLINE_MODEL: Model = {
  id: 'flite',
  name: 'Offline (Flite)',
  description:
    'Runs on this machine with no account and no network. Robotic but intelligible; costs nothing.',
  creditsPerCharacter: 0,
};

/** 20 ms packets, about 250 ms to a page. */
const PACKETS_PER_FRAME = 12;
/** Flite speaks at 16 kHz (wideband): 24 kbit/s Opus is transparent for it (measured: docs/protocol.md). */
const OPUS_BITRATE = 24_000;

/**
 * Speech with no account and no network: Flite (WASI) on a small pool of worker threads shared fairly by
 * users, streamed sentence by sentence as Ogg Opus like ElevenLabs' audio (the workers encode it). Options: pool
 * size, audio cap per request, and an event hook.
 */
export class OfflineEngine implements VoiceEngine {
  readonly name = 'offline' as const;
  readonly defaultModelId = OFFLINE_MODEL.id;
  private readonly flite: FliteSynthesizer;

  constructor(options: FliteSynthesizerOptions = {}) {
    this.flite = new FliteSynthesizer(options);
  }

  async listVoices(): Promise<Voice[]> {
    return FLITE_VOICES.map((voice) => ({
      id: voice.id,
      name: voice.name,
      category: 'offline',
      description: voice.description,
      labels: { gender: voice.gender, accent: voice.accent, language: 'en' },
    }));
  }

  async listModels(): Promise<Model[]> {
    return [OFFLINE_MODEL];
  }

  async synthesize(request: SynthesisRequest, signal: AbortSignal): Promise<SynthesisStream> {
    if (request.modelId && request.modelId !== OFFLINE_MODEL.id) {
      throw new EarshotError(
        'unknown_model',
        `Model "${request.modelId}" is not available offline; the offline engine has only "${OFFLINE_MODEL.id}". ` +
          'Set ELEVENLABS_API_KEY to use ElevenLabs models.',
      );
    }
    const options = {
      voice: request.voiceId,
      speed: request.settings?.speed ?? 1,
      requester: request.requester,
      opusBitrate: OPUS_BITRATE,
    };
    const sentences = this.flite.synthesizeSentences(request.text, options, signal);
    return {
      format: OGG_OPUS_FORMAT(FLITE_SAMPLE_RATE),
      credits: 0,
      events: frames(sentences),
    };
  }

  async checkReady(): Promise<void> {
    await this.flite.whenReady();
  }

  close(): Promise<void> {
    return this.flite.close();
  }
}

async function* frames(
  sentences: AsyncIterable<{ text: string; pcm: Buffer; opus?: readonly Uint8Array[] }>,
): AsyncIterable<SynthesisEvent> {
  // The workers encode each sentence (a fresh encoder each: sentences go to whichever worker is free); here
  // the packets only get their Ogg pages, so the event loop never runs the codec.
  const muxer = new OggOpusMuxer(FLITE_SAMPLE_RATE);
  try {
    for await (const sentence of sentences) {
      const durationMs = (sentence.pcm.length / 2 / FLITE_SAMPLE_RATE) * 1000;
      // Timings start where this sentence's packets start in the stream, so captions stay in step.
      yield estimateAlignment(sentence.text, muxer.positionMs, durationMs);
      const packets = sentence.opus ?? [];
      // ~250 ms of packets a page, so players get steady frames rather than one burst per sentence.
      for (let index = 0; index < packets.length; index += PACKETS_PER_FRAME) {
        for (const page of muxer.push(packets.slice(index, index + PACKETS_PER_FRAME))) {
          yield { type: 'audio', data: page };
        }
      }
    }
    for (const page of muxer.end()) yield { type: 'audio', data: page };
  } catch (error) {
    throw error instanceof FliteError ? toEarshotError(error) : error;
  }
}

/** Flite's failures as errors users can act on; the rest stay internal (details go to the log). */
function toEarshotError(error: FliteError): EarshotError {
  switch (error.code) {
    case 'crashed':
      return new EarshotError('engine_crashed', error.message, { cause: error });
    case 'audio_too_long':
      return new EarshotError('audio_too_long', error.message, { cause: error });
    case 'closed':
      return new EarshotError('shutting_down', 'The server is shutting down; try again in a moment.', {
        cause: error,
      });
    default:
      return new EarshotError('internal', 'The offline voice engine failed; the server log has details.', {
        cause: error,
      });
  }
}

/**
 * Flite gives no timings, but each sentence's length is exact: spread its characters evenly over it, so
 * captions stay in step sentence by sentence.
 */
function estimateAlignment(text: string, offsetMs: number, durationMs: number): AlignmentEvent {
  const chars = [...text, ' '];
  const each = durationMs / chars.length;
  return {
    type: 'alignment',
    chars,
    startMs: chars.map((_, i) => Math.round(offsetMs + i * each)),
    durationMs: chars.map(() => Math.round(each)),
  };
}

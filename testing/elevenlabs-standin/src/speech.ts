import { FLITE_SAMPLE_RATE, OggOpusMuxer, type FliteSynthesizer } from '@earshot/flite';
import { Aligner, appendAlignment, type Alignment } from './alignment.js';
import { createEncoder } from './audio/encoder.js';
import type { OutputFormat } from './audio/formats.js';
import { int16FromBuffer } from './audio/resample.js';

export interface SpeechRequest {
  readonly text: string;
  readonly fliteVoice: string;
  /** voice_settings.speed (0.7–1.2 on the real API). */
  readonly speed: number;
  readonly format: OutputFormat;
}

export interface SpeechPiece {
  /** Encoded audio in the requested format (may be empty while an MP3 frame fills). */
  readonly audio: Buffer;
  /** Timings of the characters this piece speaks, in seconds from the start of the clip. */
  readonly alignment: Alignment;
  readonly normalizedAlignment: Alignment;
  /** Where this piece's speech ends, in seconds from the start of the clip. */
  readonly endSeconds: number;
}

/**
 * Real speech for `text`, sentence by sentence, encoded as requested, with character timings. Opus is encoded on
 * the Flite workers, each sentence on its own (the event loop only pages the packets, so the stand-in stays cheap
 * per request); its timings start where each sentence's packets start in the stream.
 */
export async function* synthesizeSpeech(
  synthesizer: FliteSynthesizer,
  request: SpeechRequest,
  signal: AbortSignal,
): AsyncGenerator<SpeechPiece> {
  const format = request.format;
  const muxer = format.codec === 'opus' ? new OggOpusMuxer(FLITE_SAMPLE_RATE) : null;
  const encoder = muxer ? null : createEncoder(format, FLITE_SAMPLE_RATE);
  const normalized = request.text.replace(/\s+/g, ' ').trim();
  const aligner = new Aligner(request.text);
  const normalizedAligner = new Aligner(normalized);
  let seconds = 0;
  const pieces = synthesizer.synthesizeSentences(
    request.text,
    {
      voice: request.fliteVoice,
      speed: request.speed,
      ...(format.codec === 'opus' ? { opusBitrate: format.bitrateKbps * 1000 } : {}),
    },
    signal,
  );
  for await (const piece of pieces) {
    const samples = int16FromBuffer(piece.pcm);
    const duration = samples.length / piece.sampleRate;
    const start = muxer ? muxer.positionMs / 1000 : seconds;
    const alignment = aligner.next(piece.text, start, duration);
    const normalizedAlignment = normalizedAligner.next(piece.text, start, duration);
    const audio = muxer ? Buffer.concat(muxer.push(piece.opus ?? [])) : encoder!.encode(samples);
    seconds = muxer ? muxer.positionMs / 1000 : seconds + duration;
    yield { audio, alignment, normalizedAlignment, endSeconds: seconds };
  }
  const alignment = aligner.rest(seconds);
  const normalizedAlignment = normalizedAligner.rest(seconds);
  const last = muxer ? Buffer.concat(muxer.end()) : encoder!.flush();
  yield { audio: last, alignment, normalizedAlignment, endSeconds: seconds };
}

/** Collects a whole clip (for the non-streaming endpoints). */
export async function synthesizeWhole(
  synthesizer: FliteSynthesizer,
  request: SpeechRequest,
  signal: AbortSignal,
): Promise<{ audio: Buffer; alignment: Alignment; normalizedAlignment: Alignment; seconds: number }> {
  const audio: Buffer[] = [];
  const alignment: Alignment = {
    characters: [],
    character_start_times_seconds: [],
    character_end_times_seconds: [],
  };
  const normalizedAlignment: Alignment = {
    characters: [],
    character_start_times_seconds: [],
    character_end_times_seconds: [],
  };
  let seconds = 0;
  for await (const piece of synthesizeSpeech(synthesizer, request, signal)) {
    audio.push(piece.audio);
    appendAlignment(alignment, piece.alignment);
    appendAlignment(normalizedAlignment, piece.normalizedAlignment);
    seconds = piece.endSeconds;
  }
  return { audio: Buffer.concat(audio), alignment, normalizedAlignment, seconds };
}

import { FLITE_SAMPLE_RATE, type FliteSynthesizer } from '@earshot/flite';
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

/** Real speech for `text`, sentence by sentence, encoded as requested, with character timings. */
export async function* synthesizeSpeech(
  synthesizer: FliteSynthesizer,
  request: SpeechRequest,
  signal: AbortSignal,
): AsyncGenerator<SpeechPiece> {
  const encoder = createEncoder(request.format, FLITE_SAMPLE_RATE);
  const normalized = request.text.replace(/\s+/g, ' ').trim();
  const aligner = new Aligner(request.text);
  const normalizedAligner = new Aligner(normalized);
  let seconds = 0;
  const pieces = synthesizer.synthesizeSentences(
    request.text,
    { voice: request.fliteVoice, speed: request.speed },
    signal,
  );
  for await (const piece of pieces) {
    const samples = int16FromBuffer(piece.pcm);
    const duration = samples.length / piece.sampleRate;
    const alignment = aligner.next(piece.text, seconds, duration);
    const normalizedAlignment = normalizedAligner.next(piece.text, seconds, duration);
    seconds += duration;
    yield { audio: encoder.encode(samples), alignment, normalizedAlignment, endSeconds: seconds };
  }
  const alignment = aligner.rest(seconds);
  const normalizedAlignment = normalizedAligner.rest(seconds);
  yield { audio: encoder.flush(), alignment, normalizedAlignment, endSeconds: seconds };
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

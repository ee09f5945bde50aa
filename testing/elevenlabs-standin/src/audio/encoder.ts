import { encodeG711 } from './g711.js';
import type { OutputFormat } from './formats.js';
import { Mp3Encoder } from './mp3/encoder.js';
import { LinearResampler, bufferFromInt16 } from './resample.js';

/** Turns Flite's PCM into the requested output format, piece by piece. */
export interface AudioEncoder {
  encode(samples: Int16Array): Buffer;
  /** Whatever the encoder still holds (the last MP3 frame, padded with silence). */
  flush(): Buffer;
}

export function createEncoder(format: OutputFormat, inputRate: number): AudioEncoder {
  const resampler = new LinearResampler(inputRate, format.sampleRate);
  switch (format.codec) {
    case 'pcm':
      return { encode: (samples) => bufferFromInt16(resampler.push(samples)), flush: () => Buffer.alloc(0) };
    case 'ulaw':
    case 'alaw': {
      const law = format.codec;
      return { encode: (samples) => encodeG711(resampler.push(samples), law), flush: () => Buffer.alloc(0) };
    }
    case 'mp3': {
      const mp3 = new Mp3Encoder({ sampleRate: format.sampleRate, bitrateKbps: format.bitrateKbps });
      return { encode: (samples) => mp3.encode(resampler.push(samples)), flush: () => mp3.flush() };
    }
    case 'opus':
      throw new Error('the stand-in does not encode Opus');
  }
}

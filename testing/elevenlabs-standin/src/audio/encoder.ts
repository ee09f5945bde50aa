import { OggOpusEncoder, type OpusRate } from '@earshot/flite';
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
    case 'opus': {
      // Ogg Opus (RFC 7845) by libopus, encoded from Flite's 16 kHz directly (Opus always decodes at 48 kHz,
      // the rate in the format's name; resampling first would only cost CPU and add aliasing).
      const opus = new OggOpusEncoder({
        sampleRate: inputRate as OpusRate,
        bitrate: format.bitrateKbps * 1000,
      });
      return {
        encode: (samples) =>
          Buffer.concat(opus.push(new Uint8Array(samples.buffer, samples.byteOffset, samples.byteLength))),
        flush: () => Buffer.concat(opus.end()),
      };
    }
  }
}

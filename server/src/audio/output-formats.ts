import { OPUS_RATES, OggOpusDecoder, OggOpusEncoder, type OpusRate } from '@earshot/flite';
import { EarshotError } from '../errors.js';

/** ElevenLabs' `output_format` values for text to speech (API reference, 2026). */
export const OUTPUT_FORMAT_IDS = [
  'mp3_22050_32',
  'mp3_24000_48',
  'mp3_44100_32',
  'mp3_44100_64',
  'mp3_44100_96',
  'mp3_44100_128',
  'mp3_44100_192',
  'pcm_8000',
  'pcm_16000',
  'pcm_22050',
  'pcm_24000',
  'pcm_32000',
  'pcm_44100',
  'pcm_48000',
  'ulaw_8000',
  'alaw_8000',
  'opus_48000_32',
  'opus_48000_64',
  'opus_48000_96',
  'opus_48000_128',
  'opus_48000_192',
] as const;

export type OutputFormatId = (typeof OUTPUT_FORMAT_IDS)[number];

export interface OutputFormat {
  readonly id: OutputFormatId;
  readonly codec: 'mp3' | 'pcm' | 'ulaw' | 'alaw' | 'opus';
  readonly sampleRate: number;
  /** kbit/s, for MP3 and Opus. */
  readonly bitrateKbps?: number;
  /** The file Earshot hands over: raw PCM and G.711 get a WAV header, so they play anywhere. */
  readonly extension: 'mp3' | 'wav' | 'ogg';
  readonly mimeType: string;
}

export function outputFormat(id: OutputFormatId): OutputFormat {
  const [codec, rate, kbps] = id.split('_') as [OutputFormat['codec'], string, string | undefined];
  const sampleRate = Number(rate);
  const bitrateKbps = kbps === undefined ? undefined : Number(kbps);
  if (codec === 'mp3')
    return { id, codec, sampleRate, bitrateKbps, extension: 'mp3', mimeType: 'audio/mpeg' };
  if (codec === 'opus') {
    return { id, codec, sampleRate, bitrateKbps, extension: 'ogg', mimeType: 'audio/ogg; codecs=opus' };
  }
  return { id, codec, sampleRate, extension: 'wav', mimeType: 'audio/wav' };
}

/**
 * What the offline engine can make from its own Opus: PCM at the rates Opus decodes to, and Opus at
 * ElevenLabs' bit rates (re-encoded). No MP3 or G.711 encoder ships with Earshot.
 */
export const OFFLINE_OUTPUT_FORMAT_IDS: readonly OutputFormatId[] = OUTPUT_FORMAT_IDS.filter((id) => {
  const format = outputFormat(id);
  return format.codec === 'opus' || (format.codec === 'pcm' && OPUS_RATES.includes(format.sampleRate));
});

/** Refuses, before anything is spent, a format the engine cannot make. */
export function checkOutputFormat(engine: 'elevenlabs' | 'offline', id: OutputFormatId): OutputFormat {
  if (engine === 'offline' && !OFFLINE_OUTPUT_FORMAT_IDS.includes(id)) {
    throw new EarshotError(
      'format_unsupported',
      `The offline voice cannot make ${id}; it makes ${OFFLINE_OUTPUT_FORMAT_IDS.join(', ')} (or WAV without ` +
        'output_format). Set ELEVENLABS_API_KEY for MP3, μ-law, A-law and the other PCM rates.',
    );
  }
  return outputFormat(id);
}

/** The bytes as a file: raw PCM (16-bit) and G.711 (8-bit μ-law/A-law) in a WAV container; the rest as they are. */
export function packageAudio(format: OutputFormat, raw: Buffer): Buffer {
  if (format.codec === 'pcm') return Buffer.concat([wavHeaderFor(raw.length, format.sampleRate, 1, 16), raw]);
  if (format.codec === 'ulaw') return Buffer.concat([wavHeaderFor(raw.length, 8000, 7, 8), raw]);
  if (format.codec === 'alaw') return Buffer.concat([wavHeaderFor(raw.length, 8000, 6, 8), raw]);
  return raw;
}

/** A WAV header with an 18-byte fmt chunk (cbSize 0, as non-PCM WAVE_FORMAT tags need). */
function wavHeaderFor(dataBytes: number, sampleRate: number, formatTag: number, bits: number): Buffer {
  const header = Buffer.alloc(46);
  const blockAlign = bits / 8;
  header.write('RIFF', 0, 'ascii');
  header.writeUInt32LE(38 + dataBytes, 4);
  header.write('WAVEfmt ', 8, 'ascii');
  header.writeUInt32LE(18, 16);
  header.writeUInt16LE(formatTag, 20);
  header.writeUInt16LE(1, 22);
  header.writeUInt32LE(sampleRate, 24);
  header.writeUInt32LE(sampleRate * blockAlign, 28);
  header.writeUInt16LE(blockAlign, 32);
  header.writeUInt16LE(bits, 34);
  header.writeUInt16LE(0, 36);
  header.write('data', 38, 'ascii');
  header.writeUInt32LE(dataBytes, 42);
  return header;
}

/** Ogg Opus → the asked offline format: PCM decoded at its rate, or Opus re-encoded at its bit rate. */
export function fromOggOpus(format: OutputFormat, opus: Buffer): Buffer {
  const decoder = new OggOpusDecoder((format.codec === 'pcm' ? format.sampleRate : 48_000) as OpusRate);
  let pcm: Buffer;
  try {
    pcm = Buffer.concat(decoder.push(opus));
  } finally {
    decoder.close();
  }
  if (format.codec === 'pcm') return pcm;
  const encoder = new OggOpusEncoder({ sampleRate: 48_000, bitrate: (format.bitrateKbps ?? 32) * 1000 });
  return Buffer.concat([...encoder.push(pcm), ...encoder.end()]);
}

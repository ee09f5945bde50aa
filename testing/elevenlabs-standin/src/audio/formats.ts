/** The `output_format` values the real API accepts, parsed into what the encoders need. */
export type OutputFormat =
  | { readonly id: string; readonly codec: 'pcm'; readonly sampleRate: number }
  | { readonly id: string; readonly codec: 'ulaw' | 'alaw'; readonly sampleRate: 8000 }
  | { readonly id: string; readonly codec: 'mp3'; readonly sampleRate: number; readonly bitrateKbps: number }
  | { readonly id: string; readonly codec: 'opus'; readonly sampleRate: 48000; readonly bitrateKbps: number };

export const DEFAULT_OUTPUT_FORMAT = 'mp3_44100_128';

const PCM_RATES = [8000, 16000, 22050, 24000, 32000, 44100, 48000];
const MP3_FORMATS: readonly (readonly [number, number])[] = [
  [22050, 32],
  [24000, 48],
  [44100, 32],
  [44100, 64],
  [44100, 96],
  [44100, 128],
  [44100, 192],
];
const OPUS_BITRATES = [32, 64, 96, 128, 192];

/** Every format id the real API lists, in its order. */
export const OUTPUT_FORMAT_IDS: readonly string[] = [
  ...MP3_FORMATS.map(([rate, kbps]) => `mp3_${rate}_${kbps}`),
  ...PCM_RATES.map((rate) => `pcm_${rate}`),
  'ulaw_8000',
  'alaw_8000',
  ...OPUS_BITRATES.map((kbps) => `opus_48000_${kbps}`),
];

/** Returns undefined for a value the real API would reject. */
export function parseOutputFormat(id: string): OutputFormat | undefined {
  if (!OUTPUT_FORMAT_IDS.includes(id)) return undefined;
  const [codec, rate, kbps] = id.split('_');
  const sampleRate = Number(rate);
  switch (codec) {
    case 'pcm':
      return { id, codec, sampleRate };
    case 'ulaw':
    case 'alaw':
      return { id, codec, sampleRate: 8000 };
    case 'mp3':
      return { id, codec, sampleRate, bitrateKbps: Number(kbps) };
    default:
      return { id, codec: 'opus', sampleRate: 48000, bitrateKbps: Number(kbps) };
  }
}

/**
 * The Content-Type sent for each codec. `audio/mpeg` is what the real API sends for MP3; for raw PCM and
 * G.711 the stand-in's authors could not confirm the live header, so it uses the neutral
 * `application/octet-stream` (see README).
 */
export function contentTypeOf(format: OutputFormat): string {
  return format.codec === 'mp3' ? 'audio/mpeg' : 'application/octet-stream';
}

/** Seconds of audio carried by one byte of encoded output (all supported codecs are constant bit rate). */
export function secondsPerByte(format: OutputFormat): number {
  switch (format.codec) {
    case 'pcm':
      return 1 / (format.sampleRate * 2);
    case 'ulaw':
    case 'alaw':
      return 1 / 8000;
    case 'mp3':
    case 'opus':
      return 8 / (format.bitrateKbps * 1000);
  }
}

import { OGG_OPUS, PCM, normalizeMimeType, type AudioFormat } from '@earshot/protocol';
import { OPUS_RATES, OggOpusDecoder, OggOpusEncoder, OggOpusMeter, type OpusRate } from '@earshot/flite';

/** What a player that never said what it decodes gets: Ogg Opus (about 26–34 kbit/s for speech). */
export const DEFAULT_ACCEPT: readonly string[] = [OGG_OPUS];
/** PCM made from Opus for players that cannot decode it: the rate ElevenLabs PCM had before. */
export const FALLBACK_PCM_RATE: OpusRate = 24_000;
/** Opus made from PCM (stored PCM replays, sound effects) for players that take only Opus. */
export const TRANSCODE_OPUS_BITRATE = 32_000;

export const OGG_OPUS_FORMAT = (inputRate: number): AudioFormat => ({
  mimeType: OGG_OPUS,
  sampleRate: inputRate,
  channels: 1,
});

/** Turns one speech's audio into another format as it streams: created once per speech and format. */
export interface Transcoder {
  readonly format: AudioFormat;
  push(chunk: Uint8Array): Uint8Array[];
  /** The rest, at the end of the speech; frees the codec. */
  end(): Uint8Array[];
  /** Frees the codec without finishing (a stopped or failed speech). */
  close(): void;
}

/**
 * The format a player gets for a speech in `source`: the source itself when the player takes it (no work),
 * else the first type it lists that Earshot can transcode to, else the source (it plays what it can).
 */
export function chooseMimeType(source: AudioFormat, accept: readonly string[] | undefined): string {
  const accepted = (accept && accept.length > 0 ? accept : DEFAULT_ACCEPT).map(normalizeMimeType);
  if (accepted.includes(source.mimeType)) return source.mimeType;
  return accepted.find((mimeType) => canTranscode(source, mimeType)) ?? source.mimeType;
}

export function canTranscode(source: AudioFormat, mimeType: string): boolean {
  if (source.mimeType === OGG_OPUS) return mimeType === PCM;
  if (source.mimeType === PCM) {
    return (
      mimeType === OGG_OPUS && (source.channels ?? 1) === 1 && OPUS_RATES.includes(source.sampleRate ?? 0)
    );
  }
  return false;
}

export function createTranscoder(source: AudioFormat, mimeType: string): Transcoder {
  if (source.mimeType === OGG_OPUS && mimeType === PCM) {
    const decoder = new OggOpusDecoder(FALLBACK_PCM_RATE);
    return {
      format: { mimeType: PCM, sampleRate: FALLBACK_PCM_RATE, channels: 1 },
      push: (chunk) => decoder.push(chunk),
      end: () => {
        decoder.close();
        return [];
      },
      close: () => decoder.close(),
    };
  }
  if (canTranscode(source, mimeType)) {
    const sampleRate = source.sampleRate as OpusRate;
    const encoder = new OggOpusEncoder({ sampleRate, bitrate: TRANSCODE_OPUS_BITRATE });
    return {
      format: OGG_OPUS_FORMAT(sampleRate),
      push: (chunk) => encoder.push(chunk),
      end: () => encoder.end(),
      close: () => encoder.close(),
    };
  }
  throw new Error(`no transcoder from ${source.mimeType} to ${mimeType}`);
}

/** Measures the duration of audio in a format as it passes, without decoding. */
export interface AudioMeter {
  push(chunk: Uint8Array): void;
  readonly durationMs: number;
}

export function createMeter(format: AudioFormat): AudioMeter {
  if (format.mimeType === OGG_OPUS) return new OggOpusMeter();
  let bytes = 0;
  const bytesPerMs = ((format.sampleRate ?? 0) * 2 * (format.channels ?? 1)) / 1000;
  return {
    push: (chunk) => void (bytes += chunk.byteLength),
    get durationMs() {
      return bytesPerMs > 0 ? Math.round(bytes / bytesPerMs) : 0;
    },
  };
}

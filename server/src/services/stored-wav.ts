import {
  OGG_OPUS,
  OggPageReader,
  OPUS_GRANULE_RATE,
  parseOpusHead,
  type HistoryItem,
} from '@earshot/protocol';
import { FALLBACK_PCM_RATE } from '../audio/formats.js';
import { OPUS_RATES, OggOpusDecoder, type OpusRate } from '@earshot/flite';
import { wavHeader } from '../audio/wav.js';
import { EarshotError } from '../errors.js';
import type { Store } from '../storage/index.js';

/** A stored item's audio as a WAV file: its exact length up front (for content-length), then the bytes. */
export interface StoredWav {
  readonly bytes: number;
  readonly sampleRate: number;
  readonly stream: AsyncIterable<Uint8Array>;
  /** Closes the stored file when the stream will not be read. */
  discard(): void;
}

/**
 * Stored audio as WAV, streamed: PCM gets a header; Ogg Opus is decoded as it is read, at 24 kHz (16 kHz
 * for offline speech). Its length comes from a first pass over the page positions (no
 * decoding, a few hundred KB a minute), so nothing is held whole in memory. Throws the store's errors for a
 * missing or short file, before anything is sent.
 */
export async function storedWav(store: Store, user: string, item: HistoryItem): Promise<StoredWav> {
  const audio = item.audio;
  if (!audio) throw new EarshotError('not_found', 'No stored audio for this item.');
  const channels = audio.channels ?? 1;
  if (audio.mimeType !== OGG_OPUS) {
    const stored = await store.readAudio(user, item.id);
    const sampleRate = audio.sampleRate ?? 24_000;
    const header = wavHeader(stored.bytes, sampleRate, channels);
    return {
      bytes: header.length + stored.bytes,
      sampleRate,
      discard: () => stored.stream.destroy(),
      stream: (async function* () {
        yield header;
        yield* stored.stream as AsyncIterable<Buffer>;
      })(),
    };
  }
  // At most 24 kHz, the rate PCM downloads always had: speech loses nothing audible and the file stays half
  // the size of 48 kHz (agents get WAV inline under a size cap).
  const original = audio.sampleRate ?? FALLBACK_PCM_RATE;
  const sampleRate = (
    OPUS_RATES.includes(original) && original < FALLBACK_PCM_RATE ? original : FALLBACK_PCM_RATE
  ) as OpusRate;
  const samples = await opusSamples(store, user, item.id, sampleRate);
  const dataBytes = samples * 2;
  const header = wavHeader(dataBytes, sampleRate, 1);
  const stored = await store.readAudio(user, item.id);
  return {
    bytes: header.length + dataBytes,
    sampleRate,
    discard: () => stored.stream.destroy(),
    stream: (async function* () {
      yield header;
      const decoder = new OggOpusDecoder(sampleRate);
      let left = dataBytes;
      try {
        for await (const chunk of stored.stream as AsyncIterable<Buffer>) {
          for (const pcm of decoder.push(chunk)) {
            const piece = pcm.subarray(0, Math.min(pcm.length, left));
            left -= piece.length;
            if (piece.length > 0) yield piece;
          }
        }
      } finally {
        decoder.close();
      }
      // The announced length must hold: a stream that decodes short is an error, never a silent truncation.
      if (left > 0) throw new Error(`stored Opus audio of ${item.id} decoded ${left} bytes short`);
    })(),
  };
}

/** Samples the stream decodes to at `sampleRate`: the last page position less the pre-skip. */
async function opusSamples(store: Store, user: string, id: string, sampleRate: number): Promise<number> {
  const stored = await store.readAudio(user, id);
  const reader = new OggPageReader();
  let preSkip = 0;
  let granule = 0;
  for await (const chunk of stored.stream as AsyncIterable<Buffer>) {
    for (const page of reader.push(chunk)) {
      const head = page.flags & 2 && page.packets[0] ? parseOpusHead(page.packets[0]) : null;
      if (head) preSkip = head.preSkip;
      if (page.granule > granule) granule = page.granule;
    }
  }
  return Math.max(0, Math.round(((granule - preSkip) * sampleRate) / OPUS_GRANULE_RATE));
}

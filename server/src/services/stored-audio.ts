import { OGG_OPUS, type HistoryItem } from '@earshot/protocol';
import type { SynthesisEvent, SynthesisStream } from '../engines/index.js';
import { EarshotError } from '../errors.js';
import { AudioMissingError, type Store } from '../storage/index.js';

/** A history item's stored audio as a synthesis stream, so replays travel the same path as new speech. */
export async function storedAudioStream(
  store: Store,
  user: string,
  item: HistoryItem,
): Promise<SynthesisStream> {
  const audio = item.audio;
  const notStored = () =>
    new EarshotError(
      'not_found',
      `No stored audio for "${item.id}" (audio saving was off, or it was deleted).`,
    );
  if (!audio) throw notStored();
  let stored;
  try {
    stored = await store.readAudio(user, item.id);
  } catch (error) {
    // A short file is its own answer (audio_incomplete); a missing one reads as never stored.
    if (error instanceof AudioMissingError && error.reason !== 'short') throw notStored();
    throw error;
  }
  const readable = stored.stream;
  async function* events(): AsyncIterable<SynthesisEvent> {
    for await (const chunk of readable as AsyncIterable<Buffer>) yield { type: 'audio', data: chunk };
  }
  return {
    format: { mimeType: audio.mimeType, sampleRate: audio.sampleRate, channels: audio.channels },
    credits: 0,
    events: events(),
  };
}

/** Audio already in memory (a voice-design preview) as a synthesis stream, in ~250 ms frames. */
export function bufferAudioStream(pcm: Buffer, sampleRate: number, credits: number): SynthesisStream {
  const frame = (sampleRate * 2) / 4;
  async function* events(): AsyncIterable<SynthesisEvent> {
    for (let offset = 0; offset < pcm.length; offset += frame) {
      yield { type: 'audio', data: pcm.subarray(offset, offset + frame) };
    }
  }
  return { format: { mimeType: 'audio/pcm', sampleRate, channels: 1 }, credits, events: events() };
}

/**
 * A stored Ogg Opus file whole in memory (an upload to transcription), or null when there is none or it is
 * larger than `maxBytes`. Audio shorter than recorded throws (audio_incomplete).
 */
export async function readStoredOpus(
  store: Store,
  user: string,
  item: HistoryItem,
  maxBytes: number,
): Promise<Buffer | null> {
  if (item.audio?.mimeType !== OGG_OPUS || item.audio.bytes > maxBytes) return null;
  let stored;
  try {
    stored = await store.readAudio(user, item.id);
  } catch (error) {
    if (error instanceof AudioMissingError && error.reason !== 'short') return null;
    throw error;
  }
  const chunks: Buffer[] = [];
  for await (const chunk of stored.stream as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks);
}

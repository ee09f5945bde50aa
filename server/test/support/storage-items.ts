import type { Readable } from 'node:stream';
import type { HistoryItem } from '@earshot/protocol';

/** A history item as the hub records it; `bytes` null: no stored audio. */
export function historyItem(
  id: string,
  createdAt: string,
  text: string,
  voice = 'Robert',
  bytes: number | null = null,
): HistoryItem {
  return {
    id,
    createdAt,
    text,
    voice: { id: voice.toLowerCase(), name: voice },
    model: null,
    source: 'api',
    engine: 'offline',
    characters: text.length,
    credits: 0,
    durationMs: 100,
    audio: bytes === null ? null : { mimeType: 'audio/pcm', sampleRate: 16_000, channels: 1, bytes },
    status: 'completed',
  };
}

/** ISO time `minutes` after a fixed start, so order is known. */
export function at(minutes: number): string {
  return new Date(Date.UTC(2026, 0, 1, 0, minutes)).toISOString();
}

export async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks);
}

export function pattern(length: number, seed = 7): Buffer {
  const data = Buffer.alloc(length);
  for (let i = 0; i < length; i++) data[i] = (i * 31 + seed) % 256;
  return data;
}

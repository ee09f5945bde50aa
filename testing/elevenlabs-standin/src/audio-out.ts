import { FLITE_SAMPLE_RATE } from '@earshot/flite';
import { createEncoder } from './audio/encoder.js';
import { contentTypeOf, secondsPerByte, type OutputFormat } from './audio/formats.js';
import { BodyWriter } from './delivery.js';
import type { Exchange } from './exchange.js';
import type { ByteFault } from './faults.js';
import { ChunkSchedule, type Pacing } from './pacing.js';

export interface AudioResponse {
  readonly format: OutputFormat;
  readonly pacing: Pacing;
  readonly byteFault: ByteFault | undefined;
  readonly headers: Readonly<Record<string, string>>;
  /** Chunked as generated (true) or whole with `content-length` once all of it would have been generated. */
  readonly stream: boolean;
}

/**
 * Encodes 16 kHz PCM pieces into the requested format and sends them, paced like text to speech and
 * subject to reset/stall faults. Resolves to every encoded byte sent, or undefined if the response was
 * cut short.
 */
export async function sendAudio(
  exchange: Exchange,
  options: AudioResponse,
  pcm: AsyncIterable<Int16Array> | Iterable<Int16Array>,
): Promise<Buffer | undefined> {
  const { res, signal } = exchange;
  const schedule = new ChunkSchedule(options.pacing, exchange.startedAt);
  const writer = new BodyWriter(res, options.byteFault, signal);
  const encoder = createEncoder(options.format, FLITE_SAMPLE_RATE);
  const perByte = secondsPerByte(options.format);
  const unit = options.format.codec === 'pcm' ? 2 : 1;
  const chunkBytes = Math.max(unit, options.pacing.chunkBytes - (options.pacing.chunkBytes % unit));
  const sendHeaders = (contentLength?: number) => {
    if (res.headersSent || res.destroyed) return;
    res.writeHead(200, {
      ...options.headers,
      'content-type': contentTypeOf(options.format),
      ...(contentLength === undefined ? {} : { 'content-length': String(contentLength) }),
    });
    res.flushHeaders();
  };

  if (!options.stream) {
    const parts: Buffer[] = [];
    for await (const samples of pcm) {
      parts.push(encoder.encode(samples));
      // Synthetic sources are synchronous: let other requests run between pieces.
      await new Promise((resolve) => setImmediate(resolve));
    }
    parts.push(encoder.flush());
    const audio = Buffer.concat(parts);
    await schedule.waitUntil(schedule.dueMs(0, audio.length * perByte), signal);
    sendHeaders(audio.length);
    for (let offset = 0; offset < audio.length; offset += chunkBytes) {
      if (!(await writer.write(audio.subarray(offset, offset + chunkBytes)))) return undefined;
    }
    await writer.end();
    return writer.alive ? audio : undefined;
  }

  const sent: Buffer[] = [];
  let carry = Buffer.alloc(0);
  let index = 0;
  let seconds = 0;
  const emit = async (chunk: Buffer) => {
    await schedule.waitUntil(schedule.dueMs(index, seconds), signal);
    sendHeaders();
    index++;
    seconds += chunk.length * perByte;
    sent.push(Buffer.from(chunk));
    return writer.write(chunk);
  };
  const drain = async (all: boolean) => {
    while (carry.length >= chunkBytes || (all && carry.length > 0)) {
      const chunk = carry.subarray(0, chunkBytes);
      carry = carry.subarray(chunk.length);
      if (!(await emit(chunk))) return false;
    }
    return true;
  };
  for await (const samples of pcm) {
    carry = Buffer.concat([carry, encoder.encode(samples)]);
    if (!(await drain(false))) return undefined;
  }
  carry = Buffer.concat([carry, encoder.flush()]);
  if (!(await drain(true))) return undefined;
  sendHeaders();
  await writer.end();
  return writer.alive ? Buffer.concat(sent) : undefined;
}

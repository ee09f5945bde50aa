// Opus output formats on the wire: real Ogg Opus (RFC 7845), as Earshot requests it, checked page by page.
import { OggOpusDecoder } from '@earshot/flite';
import { OggPageReader, parseOpusHead, isOpusTags, OPUS_GRANULE_RATE, type OggPage } from '@earshot/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStandin, type Standin } from './index.js';

const RACHEL = '21m00Tcm4TlvDq8ikWAM';
const TEXT = 'The build finished. Every test passed, and the release notes are ready for review.';
let standin: Standin;

beforeAll(async () => {
  standin = await startStandin({ apiKeys: ['k1'] });
});
afterAll(() => standin.close());

function tts(path: string, format: string): Promise<Response> {
  return fetch(`${standin.url}/v1/text-to-speech/${RACHEL}/${path}?output_format=${format}`, {
    method: 'POST',
    headers: { 'xi-api-key': 'k1', 'content-type': 'application/json' },
    body: JSON.stringify({ text: TEXT }),
  });
}

/** Every page of the stream; the reader checks the capture pattern and each page's CRC. */
function pagesOf(bytes: Uint8Array): OggPage[] {
  const reader = new OggPageReader();
  const pages = reader.push(bytes);
  expect(reader.bufferedBytes).toBe(0);
  return pages;
}

describe('Opus output (opus_48000_*)', () => {
  it('streams one Ogg Opus stream: headers, audio pages in order, an end page with the exact length', async () => {
    const res = await tts('stream', 'opus_48000_32');
    expect(res.status).toBe(200);
    const bytes = new Uint8Array(await res.arrayBuffer());
    const pages = pagesOf(bytes);
    expect(pages[0]!.flags & 2).toBe(2);
    const head = parseOpusHead(pages[0]!.packets[0]!);
    expect(head).toMatchObject({ channels: 1, preSkip: 312 });
    expect(isOpusTags(pages[1]!.packets[0]!)).toBe(true);
    expect(pages.at(-1)!.flags & 4).toBe(4);
    expect(new Set(pages.map((page) => page.serial)).size).toBe(1);
    pages.forEach((page, index) => expect(page.sequence).toBe(index));
    const granules = pages.slice(2).map((page) => page.granule);
    for (let i = 1; i < granules.length; i++) expect(granules[i]!).toBeGreaterThanOrEqual(granules[i - 1]!);
    const seconds = (granules.at(-1)! - head!.preSkip) / OPUS_GRANULE_RATE;
    // Speech of the length Flite gives this text, at about the bit rate asked for.
    expect(seconds).toBeGreaterThan(3);
    expect((bytes.length * 8) / seconds).toBeLessThan(40_000);
    expect((bytes.length * 8) / seconds).toBeGreaterThan(16_000);

    // It decodes (libopus) to real speech of exactly that length.
    const decoder = new OggOpusDecoder(48_000);
    const pcm = Buffer.concat(decoder.push(bytes));
    decoder.close();
    expect(pcm.length / 2).toBe(Math.round(seconds * 48_000));
    const samples = new Int16Array(pcm.buffer, pcm.byteOffset, pcm.length / 2);
    const rms = Math.sqrt(samples.reduce((sum, s) => sum + s * s, 0) / samples.length);
    expect(rms).toBeGreaterThan(300);
  });

  it('carries the same stream in the timestamps NDJSON, with timings inside its length', async () => {
    const res = await tts('stream/with-timestamps', 'opus_48000_32');
    const lines = (await res.text()).split('\n').slice(0, -1);
    const objects = lines.map(
      (line) =>
        JSON.parse(line) as {
          audio_base64: string;
          alignment: { character_end_times_seconds: number[] } | null;
        },
    );
    const bytes = Buffer.concat(objects.map((object) => Buffer.from(object.audio_base64, 'base64')));
    const pages = pagesOf(bytes);
    const seconds = (pages.at(-1)!.granule - 312) / OPUS_GRANULE_RATE;
    const ends = objects.flatMap((object) => object.alignment?.character_end_times_seconds ?? []);
    expect(ends.at(-1)!).toBeLessThanOrEqual(seconds + 0.001);
    expect(ends.at(-1)!).toBeGreaterThan(seconds - 0.1);
  });

  it('spends more bytes at a higher bit rate', async () => {
    const low = (await (await tts('stream', 'opus_48000_32')).arrayBuffer()).byteLength;
    const high = (await (await tts('stream', 'opus_48000_96')).arrayBuffer()).byteLength;
    expect(high).toBeGreaterThan(low * 1.5);
  });
});

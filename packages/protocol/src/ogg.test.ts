import { describe, expect, it } from 'vitest';
import {
  OGG_OPUS,
  OggError,
  OggPageReader,
  OggPageWriter,
  type OggPage,
  normalizeMimeType,
  oggCrc,
  opusHead,
  opusPacketSamples,
  parseOpusHead,
} from './ogg.js';

const bytes = (length: number, seed: number) => Uint8Array.from({ length }, (_, i) => (i * 31 + seed) & 0xff);

describe('Ogg pages', () => {
  it('computes the Ogg CRC (polynomial 0x04c11db7, unreflected): "123456789" gives 0x89a1897f', () => {
    expect(oggCrc(new TextEncoder().encode('123456789'))).toBe(0x89a1897f);
  });

  it('gives the CRC of one bit at a time, four bytes a step or not, with the CRC field anywhere (or cut off)', () => {
    /** The definition: polynomial division one bit at a time, the CRC field's bytes read as 0. */
    const reference = (data: Uint8Array, crcAt: number) => {
      let crc = 0;
      data.forEach((byte, i) => {
        crc ^= (crcAt >= 0 && i >= crcAt && i < crcAt + 4 ? 0 : byte) << 24;
        for (let bit = 0; bit < 8; bit++) crc = crc & 0x80000000 ? (crc << 1) ^ 0x04c11db7 : crc << 1;
      });
      return crc >>> 0;
    };
    for (let length = 0; length <= 40; length++) {
      const data = bytes(length, length);
      expect(oggCrc(data)).toBe(reference(data, -1));
      for (const crcAt of [0, 1, 3, 22, length - 2, length])
        if (crcAt >= 0) expect(oggCrc(data, crcAt)).toBe(reference(data, crcAt));
    }
  });

  it('reads back what it writes, fed one byte at a time, packets of 0, 255, 300 and 600 bytes included', () => {
    const writer = new OggPageWriter(1234);
    const packets = [bytes(0, 1), bytes(255, 2), bytes(300, 3), bytes(600, 4), bytes(17, 5)];
    const stream = [
      writer.page([opusHead({ channels: 1, preSkip: 312, inputSampleRate: 16_000 })], 0, 2),
      writer.page(packets.slice(0, 3), 960 * 3),
      writer.page(packets.slice(3), 960 * 5 + 2 ** 33, 4),
    ];
    const all = new Uint8Array(stream.reduce((sum, page) => sum + page.length, 0));
    let offset = 0;
    for (const page of stream) {
      all.set(page, offset);
      offset += page.length;
    }
    const reader = new OggPageReader();
    const pages = [];
    for (let i = 0; i < all.length; i++) pages.push(...reader.push(all.subarray(i, i + 1)));
    expect(pages.map((page) => [page.flags, page.sequence, page.serial])).toEqual([
      [2, 0, 1234],
      [0, 1, 1234],
      [4, 2, 1234],
    ]);
    expect(pages[2]!.granule).toBe(960 * 5 + 2 ** 33);
    expect(parseOpusHead(pages[0]!.packets[0]!)).toEqual({
      channels: 1,
      preSkip: 312,
      inputSampleRate: 16_000,
    });
    expect([...pages[1]!.packets, ...pages[2]!.packets]).toEqual(packets);
    expect(reader.bufferedBytes).toBe(0);
  });

  it("with packets: 'bos', reads the same pages and positions, with packets only on the first page", () => {
    const writer = new OggPageWriter(99);
    const stream = [
      writer.page([opusHead({ channels: 1, preSkip: 312, inputSampleRate: 48_000 })], 0, 2),
      writer.page([bytes(300, 1), bytes(40, 2)], 960 * 2),
      writer.page([bytes(600, 3)], 960 * 3, 4),
    ];
    const read = (reader: OggPageReader) => stream.flatMap((page) => reader.push(page));
    const all = read(new OggPageReader());
    const positions = read(new OggPageReader({ packets: 'bos' }));
    const shape = (pages: typeof all) =>
      pages.map((page) => [page.flags, page.granule, page.sequence, page.bytes]);
    expect(shape(positions)).toEqual(shape(all));
    expect(positions[0]!.packets).toEqual(all[0]!.packets);
    expect(positions.slice(1).map((page) => page.packets)).toEqual([[], []]);
  });

  it('reads the same pages whatever two pieces the stream comes in, each whole page where it lies', () => {
    const writer = new OggPageWriter(5);
    const stream = [
      writer.page([opusHead({ channels: 1, preSkip: 312, inputSampleRate: 48_000 })], 0, 2),
      writer.page([bytes(300, 1), bytes(40, 2)], 960 * 2),
      writer.page([bytes(600, 3)], 960 * 3),
      writer.page([bytes(7, 4)], 960 * 4, 4),
    ];
    const all = new Uint8Array(stream.reduce((sum, page) => sum + page.length, 0));
    let at = 0;
    for (const page of stream) {
      all.set(page, at);
      at += page.length;
    }
    const shape = (pages: readonly OggPage[]) =>
      pages.map((page) => [
        page.flags,
        page.granule,
        page.sequence,
        [...page.bytes],
        page.packets.map((p) => [...p]),
      ]);
    const whole = shape(new OggPageReader().push(all));
    expect(whole.map((page) => page[3])).toEqual(stream.map((page) => [...page]));
    for (let split = 0; split <= all.length; split++) {
      const reader = new OggPageReader();
      const first = all.slice(0, split);
      const second = all.slice(split);
      const pages = [...reader.push(first), ...reader.push(second)];
      expect(shape(pages), `split at ${split}`).toEqual(whole);
      expect(reader.bufferedBytes).toBe(0);
      // A page wholly inside a piece is a view of that piece (no copy); only the split one is joined.
      for (const page of pages) {
        const inside = page.bytes.buffer === first.buffer || page.bytes.buffer === second.buffer;
        const offset = stream.slice(0, page.sequence).reduce((sum, p) => sum + p.length, 0);
        const splitInside = split > offset && split < offset + page.bytes.length;
        expect(inside, `page ${page.sequence}, split at ${split}`).toBe(!splitInside);
      }
    }
  });

  it('with checkCrc: false, reads a page whose CRC does not match (the default refuses it)', () => {
    const page = new OggPageWriter(1).page([bytes(50, 9)], 960);
    page[40] = page[40]! ^ 1;
    expect(() => new OggPageReader().push(page)).toThrow(/CRC/);
    const [read] = new OggPageReader({ packets: 'bos', checkCrc: false }).push(page);
    expect(read?.granule).toBe(960);
  });

  it('refuses bytes that are not Ogg as soon as 27 of them are there, whatever pieces they come in', () => {
    const notOgg = new TextEncoder().encode('ID3 and then some MP3 frames, and more besides');
    const reader = new OggPageReader();
    expect(reader.push(notOgg.subarray(0, 10))).toEqual([]);
    expect(() => reader.push(notOgg.subarray(10, 27))).toThrow(OggError);
  });

  it('joins a packet continued across pages', () => {
    const writer = new OggPageWriter(7);
    const first = writer.page([bytes(255, 1)], -1);
    // A continued page: flag 1, the rest of the packet.
    const second = writer.page([bytes(10, 2)], 960, 1);
    // Make the first page's only lacing value 255 (packet not finished on it): rewrite it without the closing 0.
    const open = new Uint8Array(first.length - 1);
    open.set(first.subarray(0, 26));
    open[26] = 1;
    open[27] = 255;
    open.set(first.subarray(29), 28);
    new DataView(open.buffer).setUint32(22, oggCrc(open, 22), true);
    const reader = new OggPageReader();
    const pages = [...reader.push(open), ...reader.push(second)];
    expect(pages[0]!.packets).toEqual([]);
    const joined = pages[1]!.packets[0]!;
    expect(joined.length).toBe(265);
    expect(joined.subarray(0, 255)).toEqual(bytes(255, 1));
  });

  it('refuses bytes that are not Ogg, and a page whose CRC does not match', () => {
    expect(() => new OggPageReader().push(new TextEncoder().encode('ID3 and then some MP3 frames'))).toThrow(
      OggError,
    );
    const page = new OggPageWriter(1).page([bytes(50, 9)], 960);
    page[40] = page[40]! ^ 1;
    expect(() => new OggPageReader().push(page)).toThrow(/CRC/);
  });

  it('holds at most one incomplete page, and refuses a packet that grows past 128 KiB', () => {
    const reader = new OggPageReader();
    const page = new OggPageWriter(1).page([bytes(1000, 3)], 960);
    reader.push(page.subarray(0, 500));
    expect(reader.bufferedBytes).toBe(500);
    expect(reader.push(page.subarray(500))).toHaveLength(1);
    expect(reader.bufferedBytes).toBe(0);
    // 255 lacing values of 255: a page whose packet goes on; continued pages past 128 KiB are refused.
    const writer = new OggPageWriter(2);
    const huge = (flags: number) => {
      const body = 255 * 255;
      const p = new Uint8Array(27 + 255 + body);
      p.set(writer.page([], 0).subarray(0, 26));
      p[5] = flags;
      p[26] = 255;
      p.fill(255, 27, 27 + 255);
      new DataView(p.buffer).setUint32(22, oggCrc(p, 22), true);
      return p;
    };
    const growing = new OggPageReader();
    growing.push(huge(0));
    growing.push(huge(1));
    expect(() => growing.push(huge(1))).toThrow(/128 KiB/);
  });
});

describe('Opus helpers', () => {
  it('counts the 48 kHz samples of a packet from its TOC byte', () => {
    expect(opusPacketSamples(Uint8Array.of(9 << 3))).toBe(960); // SILK WB 20 ms, one frame
    expect(opusPacketSamples(Uint8Array.of(8 << 3))).toBe(480); // SILK WB 10 ms
    expect(opusPacketSamples(Uint8Array.of((31 << 3) | 1))).toBe(1920); // CELT FB 20 ms, two frames
    expect(opusPacketSamples(Uint8Array.of((16 << 3) | 3, 3))).toBe(360); // CELT 2.5 ms × 3
    expect(opusPacketSamples(new Uint8Array(0))).toBe(0);
  });

  it('reads the MIME spellings of Ogg Opus as one type', () => {
    for (const type of ['audio/ogg; codecs=opus', 'audio/ogg;codecs="opus"', 'AUDIO/OPUS', 'audio/ogg']) {
      expect(normalizeMimeType(type)).toBe(OGG_OPUS);
    }
    expect(normalizeMimeType('audio/PCM')).toBe('audio/pcm');
    expect(normalizeMimeType('audio/mpeg')).toBe('audio/mpeg');
  });
});

/**
 * Ogg framing (RFC 3533) for Ogg Opus (RFC 7845), the player channel's compressed audio: ElevenLabs sends
 * it, the offline engine writes it, the server measures and transcodes it and the console demuxes it for
 * WebCodecs. One implementation for all of them; plain Uint8Array so it runs in Node and in browsers.
 */

/** The MIME type of Ogg Opus, as `speech.start` announces it and players list it in `accept`. */
export const OGG_OPUS = 'audio/ogg; codecs=opus';
/** Raw signed 16-bit little-endian PCM. */
export const PCM = 'audio/pcm';
/** Granule positions of Ogg Opus always count 48 kHz samples, whatever the input rate was. */
export const OPUS_GRANULE_RATE = 48_000;

/** A page larger than this is not Ogg (27-byte header + 255 lacing values + 255 × 255 bytes of data). */
export const OGG_MAX_PAGE_BYTES = 27 + 255 + 255 * 255;

/** `audio/ogg;codecs="opus"`, `audio/opus`, `AUDIO/OGG` … all mean Ogg Opus; anything else is kept as given. */
export function normalizeMimeType(mimeType: string): string {
  const compact = mimeType.toLowerCase().replace(/[\s"]/g, '');
  if (compact === 'audio/ogg;codecs=opus' || compact === 'audio/opus' || compact === 'audio/ogg') {
    return OGG_OPUS;
  }
  if (compact === 'audio/pcm' || compact.startsWith('audio/pcm;')) return PCM;
  return compact;
}

export interface OggPage {
  /** Bit 0 continued packet, bit 1 first page of the stream (BOS), bit 2 last page (EOS). */
  readonly flags: number;
  /** Samples (48 kHz for Opus) decoded through the last packet that ends on this page; -1: none ends here. */
  readonly granule: number;
  readonly serial: number;
  readonly sequence: number;
  /** The packets that end on this page (a packet continued from an earlier page is joined whole). */
  readonly packets: Uint8Array[];
  /** The page's bytes as received. */
  readonly bytes: Uint8Array;
}

export class OggError extends Error {}

/**
 * Reads Ogg pages out of bytes that arrive in arbitrary pieces. Holds at most one incomplete page (and one
 * packet spanning pages), so memory stays bounded whatever it is fed. Throws OggError on bytes that are not
 * Ogg or on a damaged page (bad CRC, unless told not to check).
 *
 * Pages are read where they lie in the piece pushed (`bytes` is a view of it): only a page split between two
 * pieces is joined, with just the bytes it lacks. Joining the whole piece to the last one's tail on every push
 * was most of the cost of reading a stream (a copy of each chunk, on every chunk of every speech).
 */
export class OggPageReader {
  /** The start of a page split between pieces (a copy: never a view of a caller's bytes). */
  private pending: Uint8Array = new Uint8Array(0);
  private partialPacket: Uint8Array[] = [];
  private partialBytes = 0;
  private readonly allPackets: boolean;
  private readonly checkCrc: boolean;

  /**
   * `packets: 'bos'`: only a stream's first page (BOS: the codec's header) has its packets; the others come with
   * `packets` empty, for readers that need page positions only (no copy of every packet).
   * `checkCrc: false`: pages are not checked against their CRC, for readers that only count (the audio meter):
   * whoever decodes the same bytes checks them.
   */
  constructor(options: { readonly packets?: 'all' | 'bos'; readonly checkCrc?: boolean } = {}) {
    this.allPackets = options.packets !== 'bos';
    this.checkCrc = options.checkCrc !== false;
  }

  /** Appends bytes and returns every page they complete. */
  push(chunk: Uint8Array): OggPage[] {
    const pages: OggPage[] = [];
    let offset = 0;
    if (this.pending.length > 0) {
      // A page begun in an earlier piece: joined with the bytes it lacks, in one copy once its size is known.
      const start = this.pending;
      const wanted = pageBytesWanted(start, chunk);
      if (wanted > start.length + chunk.length) {
        this.pending = concat([start, chunk]);
        return pages;
      }
      const page = new Uint8Array(wanted);
      page.set(start);
      offset = wanted - start.length;
      page.set(chunk.subarray(0, offset), start.length);
      this.pending = new Uint8Array(0);
      pages.push(this.readPage(page, 0)!);
    }
    for (;;) {
      const page = this.readPage(chunk, offset);
      if (!page) break;
      offset += page.bytes.length;
      pages.push(page);
    }
    if (offset < chunk.length) this.pending = chunk.slice(offset);
    return pages;
  }

  /** Bytes received that do not yet make a whole page. */
  get bufferedBytes(): number {
    return this.pending.length;
  }

  private readPage(data: Uint8Array, offset: number): OggPage | null {
    if (data.length - offset < 27) return null;
    checkPageStart(data, offset);
    const segments = data[offset + 26]!;
    const headerBytes = 27 + segments;
    if (data.length - offset < headerBytes) return null;
    let bodyBytes = 0;
    for (let i = 0; i < segments; i++) bodyBytes += data[offset + 27 + i]!;
    if (data.length - offset < headerBytes + bodyBytes) return null;
    const bytes = data.subarray(offset, offset + headerBytes + bodyBytes);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    if (this.checkCrc && oggCrc(bytes, 22) !== view.getUint32(22, true)) {
      throw new OggError('damaged Ogg page (CRC mismatch)');
    }
    const flags = bytes[5]!;
    const granuleLow = view.getUint32(6, true);
    const granuleHigh = view.getInt32(10, true);
    const granule = granuleHigh === -1 && granuleLow === 0xffffffff ? -1 : granuleHigh * 2 ** 32 + granuleLow;
    if ((flags & 1) === 0 || !this.allPackets) this.dropPartial();
    const packets: Uint8Array[] = [];
    if (!this.allPackets && (flags & 2) === 0)
      return {
        flags,
        granule,
        serial: view.getUint32(14, true),
        sequence: view.getUint32(18, true),
        packets,
        bytes,
      };
    let start = headerBytes;
    let length = 0;
    for (let i = 0; i < segments; i++) {
      const lace = bytes[27 + i]!;
      length += lace;
      if (lace < 255) {
        packets.push(this.takePacket(bytes.subarray(start, start + length)));
        start += length;
        length = 0;
      }
    }
    if (length > 0) this.keepPartial(bytes.subarray(start, start + length));
    return {
      flags,
      granule,
      serial: view.getUint32(14, true),
      sequence: view.getUint32(18, true),
      packets,
      bytes,
    };
  }

  private takePacket(tail: Uint8Array): Uint8Array {
    if (this.partialPacket.length === 0) return tail.slice();
    const whole = concat([...this.partialPacket, tail]);
    this.dropPartial();
    return whole;
  }

  private keepPartial(piece: Uint8Array): void {
    this.partialBytes += piece.length;
    // An Opus packet is at most 61,440 bytes (RFC 6716 §3.2.5 with 120 ms of 1275-byte frames, plus padding).
    if (this.partialBytes > 128 * 1024) throw new OggError('an Ogg packet grew past 128 KiB');
    this.partialPacket.push(piece.slice());
  }

  private dropPartial(): void {
    this.partialPacket = [];
    this.partialBytes = 0;
  }
}

/** Writes the pages of one logical Ogg stream: sequence numbers, lacing and CRC. */
export class OggPageWriter {
  private sequence = 0;

  constructor(private readonly serial: number) {}

  /**
   * One page holding whole packets (at most 255 lacing values: callers keep pages small, as a live stream
   * wants anyway). `granule` is the position after the last packet; flags: 2 for the first page, 4 for the last.
   */
  page(packets: readonly Uint8Array[], granule: number, flags = 0): Uint8Array {
    const lacing: number[] = [];
    let bodyBytes = 0;
    for (const packet of packets) {
      for (let left = packet.length; ; left -= 255) {
        lacing.push(Math.min(left, 255));
        if (left < 255) break;
      }
      bodyBytes += packet.length;
    }
    if (lacing.length > 255) throw new OggError('too many packets for one Ogg page');
    const page = new Uint8Array(27 + lacing.length + bodyBytes);
    const view = new DataView(page.buffer);
    page.set([0x4f, 0x67, 0x67, 0x53], 0);
    page[5] = flags;
    view.setUint32(6, granule % 2 ** 32, true);
    view.setUint32(10, Math.floor(granule / 2 ** 32), true);
    view.setUint32(14, this.serial, true);
    view.setUint32(18, this.sequence++, true);
    page[26] = lacing.length;
    page.set(lacing, 27);
    let offset = 27 + lacing.length;
    for (const packet of packets) {
      page.set(packet, offset);
      offset += packet.length;
    }
    view.setUint32(22, oggCrc(page, 22), true);
    return page;
  }

  /** Lacing values a packet of this size takes. */
  static lacingOf(packetBytes: number): number {
    return Math.floor(packetBytes / 255) + 1;
  }
}

export interface OpusHead {
  readonly channels: number;
  /** Samples (48 kHz) the decoder discards at the start: the encoder's look-ahead. */
  readonly preSkip: number;
  /** The rate the audio had before encoding (informational: Opus always decodes at 48 kHz or a divisor). */
  readonly inputSampleRate: number;
}

/** Parses the identification header, or returns null when the packet is not one. */
export function parseOpusHead(packet: Uint8Array): OpusHead | null {
  if (packet.length < 19 || String.fromCharCode(...packet.subarray(0, 8)) !== 'OpusHead') return null;
  const view = new DataView(packet.buffer, packet.byteOffset, packet.byteLength);
  return {
    channels: packet[9]!,
    preSkip: view.getUint16(10, true),
    inputSampleRate: view.getUint32(12, true),
  };
}

/** The 19-byte identification header for mono or stereo (mapping family 0). */
export function opusHead(head: OpusHead): Uint8Array {
  const packet = new Uint8Array(19);
  const view = new DataView(packet.buffer);
  packet.set([...'OpusHead'].map((c) => c.charCodeAt(0)));
  packet[8] = 1;
  packet[9] = head.channels;
  view.setUint16(10, head.preSkip, true);
  view.setUint32(12, head.inputSampleRate, true);
  return packet;
}

/** The comment header with a vendor string and no comments. */
export function opusTags(vendor: string): Uint8Array {
  const vendorBytes = new TextEncoder().encode(vendor);
  const packet = new Uint8Array(8 + 4 + vendorBytes.length + 4);
  const view = new DataView(packet.buffer);
  packet.set([...'OpusTags'].map((c) => c.charCodeAt(0)));
  view.setUint32(8, vendorBytes.length, true);
  packet.set(vendorBytes, 12);
  return packet;
}

export function isOpusTags(packet: Uint8Array): boolean {
  return packet.length >= 8 && String.fromCharCode(...packet.subarray(0, 8)) === 'OpusTags';
}

/** Samples (48 kHz) an Opus packet decodes to, from its TOC byte (RFC 6716 §3.1); 0 for a malformed one. */
export function opusPacketSamples(packet: Uint8Array): number {
  if (packet.length === 0) return 0;
  const toc = packet[0]!;
  const config = toc >> 3;
  let frameSamples: number;
  if (config < 12) frameSamples = [480, 960, 1920, 2880][config & 3]!;
  else if (config < 16) frameSamples = config & 1 ? 960 : 480;
  else frameSamples = [120, 240, 480, 960][config & 3]!;
  const code = toc & 3;
  let frames: number;
  if (code === 0) frames = 1;
  else if (code === 3) {
    if (packet.length < 2) return 0;
    frames = packet[1]! & 0x3f;
  } else frames = 2;
  return frames * frameSamples;
}

/**
 * CRC tables for four bytes a step ("slicing by 4"): TABLES[0] is the usual byte table, TABLES[k] the same
 * byte seen k bytes earlier. Every page of every speech is checked as it passes (the duration meter), so the
 * check takes a quarter of the steps of one byte at a time.
 */
const CRC_TABLES = (() => {
  const tables = Array.from({ length: 4 }, () => new Uint32Array(256));
  const [first] = tables as [Uint32Array];
  for (let i = 0; i < 256; i++) {
    let r = i << 24;
    for (let j = 0; j < 8; j++) r = r & 0x80000000 ? (r << 1) ^ 0x04c11db7 : r << 1;
    first[i] = r >>> 0;
  }
  for (let k = 1; k < 4; k++) {
    const previous = tables[k - 1]!;
    const table = tables[k]!;
    for (let i = 0; i < 256; i++) table[i] = ((previous[i]! << 8) ^ first[previous[i]! >>> 24]!) >>> 0;
  }
  return tables as [Uint32Array, Uint32Array, Uint32Array, Uint32Array];
})();
const CRC_FIELD = new Uint8Array(4);

/** Ogg's CRC-32 (polynomial 0x04c11db7, not reflected, no final xor), with the 4 CRC bytes at `crcAt` read as 0. */
export function oggCrc(page: Uint8Array, crcAt = -1): number {
  if (crcAt < 0) return crcUpdate(0, page, 0, page.length) >>> 0;
  let crc = crcUpdate(0, page, 0, Math.min(crcAt, page.length));
  crc = crcUpdate(crc, CRC_FIELD, 0, Math.max(0, Math.min(4, page.length - crcAt)));
  return crcUpdate(crc, page, crcAt + 4, page.length) >>> 0;
}

function crcUpdate(crc: number, data: Uint8Array, start: number, end: number): number {
  const [t0, t1, t2, t3] = CRC_TABLES;
  let i = start;
  for (; i + 4 <= end; i += 4) {
    crc ^= (data[i]! << 24) | (data[i + 1]! << 16) | (data[i + 2]! << 8) | data[i + 3]!;
    crc = t3[crc >>> 24]! ^ t2[(crc >>> 16) & 0xff]! ^ t1[(crc >>> 8) & 0xff]! ^ t0[crc & 0xff]!;
  }
  for (; i < end; i++) crc = (crc << 8) ^ t0[((crc >>> 24) ^ data[i]!) & 0xff]!;
  return crc;
}

/** Throws unless the 27 bytes at `offset` begin an Ogg page of the one version there is. */
function checkPageStart(data: Uint8Array, offset: number): void {
  if (
    data[offset] !== 0x4f ||
    data[offset + 1] !== 0x67 ||
    data[offset + 2] !== 0x67 ||
    data[offset + 3] !== 0x53
  ) {
    throw new OggError('not an Ogg page (no "OggS" capture pattern)');
  }
  if (data[offset + 4] !== 0) throw new OggError('unsupported Ogg version');
}

/**
 * The size of the page that begins with `start` and goes on in `rest`, as far as they tell: its fixed header
 * (27) while that is not all there, then its header with the lacing values, then the whole page. Reads the bytes
 * where they lie (only a fixed header split between the two is joined, to check it).
 */
function pageBytesWanted(start: Uint8Array, rest: Uint8Array): number {
  const at = (index: number) => (index < start.length ? start[index]! : rest[index - start.length]!);
  const available = start.length + rest.length;
  if (available < 27) return 27;
  const head = start.length >= 27 ? start : concat([start, rest.subarray(0, 27 - start.length)]);
  checkPageStart(head, 0);
  const headerBytes = 27 + head[26]!;
  if (available < headerBytes) return headerBytes;
  let bodyBytes = 0;
  for (let i = 27; i < headerBytes; i++) bodyBytes += at(i);
  return headerBytes + bodyBytes;
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  let length = 0;
  for (const part of parts) length += part.length;
  const joined = new Uint8Array(length);
  let offset = 0;
  for (const part of parts) {
    joined.set(part, offset);
    offset += part.length;
  }
  return joined;
}

import { randomInt } from 'node:crypto';
import {
  OggPageReader,
  OggPageWriter,
  OPUS_GRANULE_RATE,
  isOpusTags,
  opusHead,
  opusPacketSamples,
  opusTags,
  parseOpusHead,
} from '@earshot/protocol';
import { ENCODER_PRE_SKIP, OpusDecoder, OpusEncoder, type OpusRate } from './opus.js';
const FRAME_MS = 20;
/** A page carries at most this many packets, so a long chunk still streams in pieces a player can start on. */
const PACKETS_PER_PAGE_MAX = 25;

/** 16-bit little-endian PCM bytes that may split a sample across chunks, as whole samples. */
class SampleCarry {
  private odd: number | null = null;

  take(bytes: Uint8Array): Int16Array {
    let data = bytes;
    if (this.odd !== null) {
      data = new Uint8Array(bytes.length + 1);
      data[0] = this.odd;
      data.set(bytes, 1);
      this.odd = null;
    }
    if (data.length % 2 === 1) {
      this.odd = data[data.length - 1]!;
      data = data.subarray(0, data.length - 1);
    }
    // A copy: Int16Array needs 2-byte alignment, which slices of network buffers rarely have.
    const samples = new Int16Array(data.length / 2);
    new Uint8Array(samples.buffer).set(data);
    return samples;
  }
}

export interface OggOpusEncoderOptions {
  /** Rate of the PCM fed in; Opus takes 8, 12, 16, 24 or 48 kHz. */
  readonly sampleRate: OpusRate;
  /** Target bit rate. @default 32_000 */
  readonly bitrate?: number;
}

/**
 * Mono 16-bit PCM in, Ogg Opus pages out, as it goes: each `push` returns the pages its audio completes
 * (headers first), so a live stream never waits for the clip to end. `end` pads the last frame and marks the
 * end of the stream with the exact length, so decoders trim the padding.
 */
export class OggOpusEncoder {
  private readonly encoder: OpusEncoder;
  private readonly writer = new OggPageWriter(randomInt(2 ** 31));
  private readonly carry = new SampleCarry();
  private readonly frameSamples: number;
  private readonly granulePerSample: number;
  private pending = new Int16Array(0);
  private packets: Uint8Array[] = [];
  private headersSent = false;
  private inputSamples = 0;
  private encodedSamples = 0;

  constructor(private readonly options: OggOpusEncoderOptions) {
    this.encoder = new OpusEncoder(options.sampleRate, 1, options.bitrate ?? 32_000);
    this.frameSamples = (options.sampleRate * FRAME_MS) / 1000;
    this.granulePerSample = OPUS_GRANULE_RATE / options.sampleRate;
  }

  push(pcm: Uint8Array): Uint8Array[] {
    const samples = this.carry.take(pcm);
    this.inputSamples += samples.length;
    const joined = new Int16Array(this.pending.length + samples.length);
    joined.set(this.pending);
    joined.set(samples, this.pending.length);
    let offset = 0;
    for (; offset + this.frameSamples <= joined.length; offset += this.frameSamples) {
      this.packets.push(this.encoder.encode(joined.subarray(offset, offset + this.frameSamples)));
      this.encodedSamples += this.frameSamples;
    }
    this.pending = joined.slice(offset);
    return this.flushPages(false);
  }

  /** The last pages; the encoder is freed. */
  end(): Uint8Array[] {
    try {
      // The encoder's look-ahead still holds the last few ms: feed that much silence to push them out,
      // then pad the last frame; the final granule position tells decoders where the audio really ends.
      const lookahead = Math.ceil(ENCODER_PRE_SKIP / this.granulePerSample);
      const tail = new Int16Array(this.pending.length + lookahead);
      tail.set(this.pending);
      for (let offset = 0; offset < tail.length; offset += this.frameSamples) {
        const frame = new Int16Array(this.frameSamples);
        frame.set(tail.subarray(offset, offset + this.frameSamples));
        this.packets.push(this.encoder.encode(frame));
        this.encodedSamples += this.frameSamples;
      }
      this.pending = new Int16Array(0);
      return this.flushPages(true);
    } finally {
      this.encoder.close();
    }
  }

  /** Frees the encoder without finishing the stream (a stopped speech). */
  close(): void {
    this.encoder.close();
  }

  private flushPages(last: boolean): Uint8Array[] {
    const pages = this.headers();
    let done = this.encodedSamples - this.packets.length * this.frameSamples;
    while (this.packets.length > 0) {
      const batch = this.packets.splice(0, PACKETS_PER_PAGE_MAX);
      done += batch.length * this.frameSamples;
      const final = last && this.packets.length === 0;
      // The last page's position is the true length, so the decoder drops the zeros that padded the frame.
      const granule = ENCODER_PRE_SKIP + (final ? this.inputSamples : done) * this.granulePerSample;
      pages.push(this.writer.page(batch, granule, final ? 4 : 0));
    }
    if (last && !pages.some((page) => page[5]! & 4)) {
      pages.push(this.writer.page([], ENCODER_PRE_SKIP + this.inputSamples * this.granulePerSample, 4));
    }
    return pages;
  }

  private headers(): Uint8Array[] {
    if (this.headersSent) return [];
    this.headersSent = true;
    const head = opusHead({
      channels: 1,
      preSkip: ENCODER_PRE_SKIP,
      inputSampleRate: this.options.sampleRate,
    });
    return [this.writer.page([head], 0, 2), this.writer.page([opusTags('earshot (libopus)')], 0)];
  }
}

/**
 * Ogg Opus bytes in (any split), mono 16-bit PCM out at `sampleRate`, as it goes: skips the encoder's pre-skip
 * at the start and trims the padding the last page's position says to drop, so the PCM lines up with the
 * speech's character timings. Chained streams (a new first page) start over.
 */
export class OggOpusDecoder {
  private readonly reader = new OggPageReader();
  private decoder: OpusDecoder | null = null;
  private skip = 0;
  private preSkip = 0;
  private decodedGranule = 0;
  private readonly outPerGranule: number;

  constructor(readonly sampleRate: OpusRate) {
    this.outPerGranule = sampleRate / OPUS_GRANULE_RATE;
  }

  push(bytes: Uint8Array): Uint8Array[] {
    const out: Uint8Array[] = [];
    for (const page of this.reader.push(bytes)) {
      const pcm: Int16Array[] = [];
      for (const packet of page.packets) {
        const head = parseOpusHead(packet);
        if (head) {
          this.decoder ??= new OpusDecoder(this.sampleRate, 1);
          this.preSkip = head.preSkip;
          this.skip = Math.round(head.preSkip * this.outPerGranule);
          this.decodedGranule = 0;
          continue;
        }
        if (isOpusTags(packet) || !this.decoder || packet.length === 0) continue;
        let samples = this.decoder.decode(packet);
        this.decodedGranule += samples.length / this.outPerGranule;
        if (this.skip > 0) {
          const dropped = Math.min(this.skip, samples.length);
          samples = samples.subarray(dropped);
          this.skip -= dropped;
        }
        pcm.push(samples);
      }
      if (page.flags & 4 && page.granule >= 0) {
        // The end-of-stream position is the exact length: drop the padding decoded past it.
        const excess = Math.round((this.decodedGranule - page.granule) * this.outPerGranule);
        trimTail(pcm, excess);
      }
      for (const samples of pcm) {
        if (samples.length > 0)
          out.push(new Uint8Array(samples.buffer, samples.byteOffset, samples.byteLength));
      }
    }
    return out;
  }

  /** Samples (48 kHz) of pre-skip announced by the current stream. */
  get currentPreSkip(): number {
    return this.preSkip;
  }

  close(): void {
    this.decoder?.close();
    this.decoder = null;
  }
}

function trimTail(pcm: Int16Array[], excess: number): void {
  let left = excess;
  for (let i = pcm.length - 1; i >= 0 && left > 0; i--) {
    const samples = pcm[i]!;
    const cut = Math.min(left, samples.length);
    pcm[i] = samples.subarray(0, samples.length - cut);
    left -= cut;
  }
}

/**
 * Measures how much audio an Ogg Opus stream holds as it passes (page positions, no decoding), so speech.end,
 * progress and history report the real duration.
 */
export class OggOpusMeter {
  // Positions only: the OpusHead of each link is the one packet it reads (copying every packet of every page was
  // half of the meter's CPU, which runs on every chunk of every speech). No CRC check either: it counts, and the
  // players and transcoders that decode the same bytes check them.
  private readonly reader = new OggPageReader({ packets: 'bos', checkCrc: false });
  private preSkip = 0;
  private linkStartMs = 0;
  private linkMs = 0;

  private broken = false;

  /** Never throws: bytes that are not Ogg Opus stop the count (the transcoders report the damage). */
  push(bytes: Uint8Array): void {
    if (this.broken) return;
    let pages;
    try {
      pages = this.reader.push(bytes);
    } catch {
      this.broken = true;
      return;
    }
    for (const page of pages) {
      if (page.flags & 2) {
        this.linkStartMs += this.linkMs;
        this.linkMs = 0;
        const head = page.packets[0] && parseOpusHead(page.packets[0]);
        this.preSkip = head ? head.preSkip : 0;
      }
      if (page.granule > 0)
        this.linkMs = Math.max(0, ((page.granule - this.preSkip) * 1000) / OPUS_GRANULE_RATE);
    }
  }

  get durationMs(): number {
    return Math.round(this.linkStartMs + this.linkMs);
  }
}

/**
 * Opus packets in, one Ogg Opus stream out: the headers, then pages of whole packets with positions counted
 * from the packets themselves. For audio encoded in separate clips (each sentence on whichever Flite worker
 * is free, each dialogue line its own request) that must play as one stream: every clip after the first keeps
 * its encoder's few ms of look-ahead and end padding as near-silence, and `positionMs` says where the next
 * clip's speech starts, so its character timings line up.
 */
export class OggOpusMuxer {
  private readonly writer = new OggPageWriter(randomInt(2 ** 31));
  private granule = 0;
  private headersSent = false;

  constructor(
    private readonly inputSampleRate: number,
    private readonly preSkip = ENCODER_PRE_SKIP,
  ) {}

  /** Where the next packet's speech starts, in ms of the stream's audio (after the pre-skip). */
  get positionMs(): number {
    return (this.granule * 1000) / OPUS_GRANULE_RATE;
  }

  /** Pages for these packets (the headers first). */
  push(packets: readonly Uint8Array[]): Uint8Array[] {
    const pages = this.headers();
    for (let index = 0; index < packets.length; index += PACKETS_PER_PAGE_MAX) {
      const batch = packets.slice(index, index + PACKETS_PER_PAGE_MAX);
      for (const packet of batch) this.granule += opusPacketSamples(packet);
      pages.push(this.writer.page(batch, this.granule));
    }
    return pages;
  }

  /** The end-of-stream page. */
  end(): Uint8Array[] {
    return [...this.headers(), this.writer.page([], Math.max(this.granule, this.preSkip), 4)];
  }

  private headers(): Uint8Array[] {
    if (this.headersSent) return [];
    this.headersSent = true;
    const head = opusHead({ channels: 1, preSkip: this.preSkip, inputSampleRate: this.inputSampleRate });
    return [this.writer.page([head], 0, 2), this.writer.page([opusTags('earshot (libopus)')], 0)];
  }
}

import {
  OPUS_GRANULE_RATE,
  OggPageReader,
  isOpusTags,
  opusPacketSamples,
  parseOpusHead,
} from '@earshot/protocol';

const OPUS_CONFIG = { codec: 'opus', sampleRate: OPUS_GRANULE_RATE, numberOfChannels: 1 } as const;

/** Whether this browser decodes Opus with WebCodecs; a player that cannot asks the server for PCM instead. */
export async function canDecodeOpus(): Promise<boolean> {
  if (typeof AudioDecoder === 'undefined' || typeof EncodedAudioChunk === 'undefined') return false;
  try {
    return (await AudioDecoder.isConfigSupported(OPUS_CONFIG)).supported === true;
  } catch {
    return false;
  }
}

/**
 * One speech's Ogg Opus as it arrives, decoded with WebCodecs into mono float samples in order: pages are
 * demuxed as soon as they are whole, each packet is decoded on its own, the encoder's pre-skip is dropped at
 * the start and the end-of-stream position trims the padding, so sample 0 is where the character timings start.
 */
export class OpusStream {
  private readonly reader = new OggPageReader();
  private decoder: AudioDecoder | null = null;
  private timestampUs = 0;
  private skip = 0;
  private emitted = 0;
  /** Samples (48 kHz) the whole stream holds, once its last page says. */
  private limit = Infinity;
  private failed = false;
  /** Pre-skip of the stream, once its identification header arrived. */
  private preSkipKnown: number | null = null;

  constructor(
    private readonly onSamples: (samples: Float32Array, sampleRate: number) => void,
    private readonly onError: (error: Error) => void,
  ) {}

  push(bytes: Uint8Array): void {
    if (this.failed) return;
    try {
      for (const page of this.reader.push(bytes)) {
        for (const packet of page.packets) this.packet(packet);
        if (page.flags & 4 && page.granule >= 0 && this.preSkipKnown !== null) {
          this.limit = Math.max(0, page.granule - this.preSkipKnown);
        }
      }
    } catch (error) {
      this.fail(error);
    }
  }

  /** Resolves once every packet received so far has been decoded and handed on. */
  async flush(): Promise<void> {
    if (this.failed || !this.decoder || this.decoder.state !== 'configured') return;
    try {
      await this.decoder.flush();
    } catch (error) {
      this.fail(error);
    }
  }

  close(): void {
    if (this.decoder && this.decoder.state !== 'closed') this.decoder.close();
  }

  private packet(packet: Uint8Array): void {
    const head = parseOpusHead(packet);
    if (head) {
      this.preSkipKnown = head.preSkip;
      this.skip = head.preSkip;
      this.decoder ??= new AudioDecoder({
        output: (data) => this.output(data),
        error: (error) => this.fail(error),
      });
      // No description: mono/stereo need none (mapping family 0), and pre-skip is applied here, the same in
      // every browser whether or not its decoder would read it from the header.
      this.decoder.configure({ ...OPUS_CONFIG, numberOfChannels: head.channels });
      return;
    }
    if (isOpusTags(packet) || !this.decoder || packet.length === 0) return;
    const samples = opusPacketSamples(packet);
    this.decoder.decode(
      new EncodedAudioChunk({
        type: 'key',
        timestamp: this.timestampUs,
        duration: (samples / 48) * 1000,
        data: packet,
      }),
    );
    this.timestampUs += (samples / OPUS_GRANULE_RATE) * 1_000_000;
  }

  private output(data: AudioData): void {
    try {
      const frames = data.numberOfFrames;
      const rate = data.sampleRate;
      const samples = new Float32Array(frames);
      data.copyTo(samples, { planeIndex: 0, format: 'f32-planar' });
      // Pre-skip and limit count 48 kHz samples; WebCodecs decodes Opus at 48 kHz.
      const scale = rate / OPUS_GRANULE_RATE;
      let start = 0;
      if (this.skip > 0) {
        start = Math.min(frames, Math.round(this.skip * scale));
        this.skip -= start / scale;
      }
      const room = Math.max(0, Math.round(this.limit * scale) - this.emitted);
      const end = Math.min(frames, start + room);
      if (end > start) {
        this.emitted += end - start;
        this.onSamples(samples.subarray(start, end), rate);
      }
    } finally {
      data.close();
    }
  }

  private fail(error: unknown): void {
    if (this.failed) return;
    this.failed = true;
    this.close();
    this.onError(error instanceof Error ? error : new Error(String(error)));
  }
}

import { randomInt } from 'node:crypto';
import {
  OggPageReader,
  OggPageWriter,
  OPUS_GRANULE_RATE,
  isOpusTags,
  opusPacketSamples,
  parseOpusHead,
} from '@earshot/protocol';

/**
 * Several Ogg Opus streams (a dialogue: one engine request per line) as one: the first stream's headers, then
 * every audio packet of each stream in order, on pages of one serial number with positions counted from the
 * packets themselves. A chained Ogg file would do too, but WebCodecs players and many decoders handle one
 * stream only. Each later stream's few ms of encoder pre-skip and end padding stay in as near-silence.
 */
export class OggOpusJoiner {
  private readonly writer = new OggPageWriter(randomInt(2 ** 31));
  private reader = new OggPageReader();
  private links = 0;
  private granule = 0;
  private firstPreSkip = 0;
  private linkStart = 0;

  /** Call before each stream's bytes. */
  startLink(): void {
    this.reader = new OggPageReader();
    this.links += 1;
    this.linkStart = this.granule;
  }

  /** Where the current stream's speech starts in the joined audio, in ms (for its character timings). */
  get linkStartMs(): number {
    return Math.max(0, (this.linkStart * 1000) / OPUS_GRANULE_RATE);
  }

  push(bytes: Uint8Array): Uint8Array[] {
    const out: Uint8Array[] = [];
    for (const page of this.reader.push(bytes)) {
      const audio: Uint8Array[] = [];
      for (const packet of page.packets) {
        const head = parseOpusHead(packet);
        if (head || isOpusTags(packet)) {
          if (this.links === 1) {
            if (head) this.firstPreSkip = head.preSkip;
            out.push(this.writer.page([packet], 0, head ? 2 : 0));
          }
          continue;
        }
        this.granule += opusPacketSamples(packet);
        audio.push(packet);
      }
      if (audio.length > 0) out.push(this.writer.page(audio, this.granule));
    }
    return out;
  }

  /** The end-of-stream page. */
  end(): Uint8Array[] {
    return [this.writer.page([], Math.max(this.granule, this.firstPreSkip), 4)];
  }
}

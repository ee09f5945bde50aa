import { OggOpusMuxer } from '@earshot/flite';
import { OggPageReader, isOpusTags, parseOpusHead } from '@earshot/protocol';

/**
 * Several Ogg Opus streams (a dialogue: one engine request per line) as one: their audio packets in order,
 * re-paged under the first stream's headers (OggOpusMuxer). A chained Ogg file would do too, but WebCodecs
 * players and many decoders take one stream only.
 */
export class OggOpusJoiner {
  private reader = new OggPageReader();
  private muxer: OggOpusMuxer | null = null;
  private startMs = 0;

  /** Call before each stream's bytes. */
  startLink(): void {
    this.reader = new OggPageReader();
    this.startMs = this.muxer?.positionMs ?? 0;
  }

  /** Where the current stream's speech starts in the joined audio, in ms (for its character timings). */
  get linkStartMs(): number {
    return this.startMs;
  }

  push(bytes: Uint8Array): Uint8Array[] {
    const out: Uint8Array[] = [];
    for (const page of this.reader.push(bytes)) {
      const audio: Uint8Array[] = [];
      for (const packet of page.packets) {
        const head = parseOpusHead(packet);
        if (head) this.muxer ??= new OggOpusMuxer(head.inputSampleRate, head.preSkip);
        else if (!isOpusTags(packet) && packet.length > 0) audio.push(packet);
      }
      if (audio.length > 0 && this.muxer) out.push(...this.muxer.push(audio));
    }
    return out;
  }

  /** The end-of-stream page. */
  end(): Uint8Array[] {
    return this.muxer?.end() ?? [];
  }
}

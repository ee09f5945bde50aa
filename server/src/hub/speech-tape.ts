import type { ServerMessage } from '@earshot/protocol';

/**
 * Audio one tape keeps: about 8 minutes of Opus speech (longer than the longest text allows), 40 s of 24 kHz PCM.
 * A longer speech is cut, and the player told so.
 */
export const TAPE_MAX_BYTES = 2 * 1024 * 1024;

const ENDINGS = new Set<ServerMessage['type']>(['speech.end', 'speech.stopped', 'speech.error']);

export type TapeItem =
  | { readonly kind: 'message'; readonly message: ServerMessage }
  | { readonly kind: 'audio'; readonly chunk: Uint8Array };

export type TapeListener = (item: TapeItem) => void;

/**
 * One speech as its players received it (start, timings, audio in the source format, end), kept for a few
 * minutes so a player that arrives late — the in-chat player, which learns of the speech from the tool result,
 * after generation — hears it from the start, then live if it is still streaming.
 */
export class SpeechTape {
  private readonly items: TapeItem[] = [];
  private readonly listeners = new Set<TapeListener>();
  private bytes = 0;
  /** True once the audio passed TAPE_MAX_BYTES: the tape stops there and says so. */
  private cut = false;
  private closed = false;

  constructor(
    readonly speechId: string,
    private readonly maxBytes = TAPE_MAX_BYTES,
  ) {}

  get ended(): boolean {
    return this.closed;
  }

  message(message: ServerMessage): void {
    if (this.closed) return;
    if (this.cut && message.type === 'speech.end') {
      // The end of a cut tape is an error: the audio kept is not the whole speech.
      return this.push({
        kind: 'message',
        message: {
          type: 'speech.error',
          id: this.speechId,
          code: 'too_long',
          message: 'This speech is too long to play in the chat; open the Earshot console to hear it.',
        },
      });
    }
    this.push({ kind: 'message', message });
  }

  audio(chunk: Uint8Array): void {
    if (this.closed || this.cut) return;
    if (this.bytes + chunk.byteLength > this.maxBytes) {
      this.cut = true;
      return;
    }
    this.bytes += chunk.byteLength;
    this.push({ kind: 'audio', chunk });
  }

  /** Replays what is kept to `listener`, then follows live; returns the function that stops following. */
  follow(listener: TapeListener): () => void {
    for (const item of this.items) listener(item);
    if (this.closed) return () => undefined;
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private push(item: TapeItem): void {
    this.items.push(item);
    if (item.kind === 'message' && ENDINGS.has(item.message.type)) this.closed = true;
    for (const listener of this.listeners) listener(item);
    if (this.closed) this.listeners.clear();
  }
}

import type { Alignment } from './alignment.js';

/** One chunk of a streamed text-to-speech body, as written on the wire. */
export interface StreamChunk {
  /** The bytes written: raw audio on `/stream`, one NDJSON line on `/stream/with-timestamps`. */
  readonly wire: Buffer;
  /** The audio this chunk carries. */
  readonly audio: Buffer;
  /** Where this chunk's audio starts, in seconds from the start of the clip (for pacing). */
  readonly startSeconds: number;
}

/** A streamed response rendered in full: its chunks and what the history keeps of it. */
export interface RenderedStream {
  readonly chunks: readonly StreamChunk[];
  readonly audio: Buffer;
  readonly alignment: Alignment;
}

/** A whole (non-streaming) clip rendered once. */
export interface RenderedClip {
  readonly audio: Buffer;
  readonly alignment: Alignment;
  readonly normalizedAlignment: Alignment;
  readonly seconds: number;
}

/**
 * Renders kept by request (`prerendered` mode, for benchmarks): the first request for a text, voice,
 * format, speed and chunk size synthesises it; every later one replays the same bytes, paced as before,
 * so a request costs the stand-in little more than its timers and writes. Requests that arrive while the
 * first render runs wait for it rather than starting their own. Least recently used renders go first
 * beyond `maxEntries` (a clip with its NDJSON lines is about 2.4× its PCM size: ~0.7 MB for 6 s at 24 kHz).
 */
export class RenderCache<T> {
  private readonly entries = new Map<string, Promise<T>>();
  private readonly closed = new AbortController();

  constructor(private readonly maxEntries = 64) {}

  /**
   * The render for `key`, made by `render` if there is none. `render` gets the cache's own signal, not a
   * request's: a client that leaves must not abort a render others wait for.
   */
  get(key: string, render: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const kept = this.entries.get(key);
    if (kept) {
      this.entries.delete(key);
      this.entries.set(key, kept);
      return kept;
    }
    const made = render(this.closed.signal);
    this.entries.set(key, made);
    // A failed render is not kept: the next request tries again.
    made.catch(() => {
      if (this.entries.get(key) === made) this.entries.delete(key);
    });
    for (const oldest of this.entries.keys()) {
      if (this.entries.size <= this.maxEntries) break;
      this.entries.delete(oldest);
    }
    return made;
  }

  /** Aborts renders in progress and forgets every render. */
  close(): void {
    this.closed.abort();
    this.entries.clear();
  }
}

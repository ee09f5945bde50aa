import { availableParallelism } from 'node:os';
import { audioTooLongError, FliteError } from './errors.js';
import { FlitePool, type FliteEvent } from './pool.js';
import { splitIntoSentences } from './sentences.js';
import type { SynthesizedAudio } from './thread.js';
import { FLITE_VOICES } from './voices.js';

export type { SynthesizedAudio } from './thread.js';

export interface SynthesisOptions {
  /** A Flite voice id from FLITE_VOICES. */
  readonly voice: string;
  /** 1 is normal; 1.2 speaks 20% faster. Clamped to 0.5–2. */
  readonly speed?: number;
  /** Who is asking (a user): requesters take turns on the workers, so one cannot hold up another. */
  readonly requester?: string;
  /** Also encode each clip to Opus packets at this bit rate, on the worker (SynthesizedAudio.opus). */
  readonly opusBitrate?: number;
}

export interface FliteSynthesizerOptions {
  /**
   * Worker threads at most. Each requester uses one at a time, so this is how many requesters are served
   * at once; one more than the cores keeps a worker for a newcomer's first sentence while long speeches
   * fill every core. @default min(3, cores + 1), at least 2
   */
  readonly maxWorkers?: number;
  /** How long an idle worker beyond the first lives before it is retired. @default 10_000 */
  readonly idleWorkerMs?: number;
  /**
   * The longest audio one request may produce, in seconds (16 kHz 16-bit mono: 32 kB a second).
   * @default 900 (15 minutes: 5,000 characters at ~15 a second is about 6 minutes, 11 at half speed)
   */
  readonly maxAudioSeconds?: number;
  /** Sees workers start and exit and jobs run: for diagnostics, benchmarks and fault tests. */
  readonly onEvent?: (event: FliteEvent) => void;
}

export const DEFAULT_MAX_AUDIO_SECONDS = 15 * 60;
const ANONYMOUS = '';

/**
 * Flite speech synthesis off the main thread, on a small pool of worker threads shared fairly between
 * requesters. Create one per process and close it on shutdown; an idle synthesizer does not keep the
 * process alive.
 */
export class FliteSynthesizer {
  private readonly pool: FlitePool;
  private readonly maxAudioSeconds: number;
  private closed = false;

  constructor(options: FliteSynthesizerOptions = {}) {
    this.maxAudioSeconds = options.maxAudioSeconds ?? DEFAULT_MAX_AUDIO_SECONDS;
    this.pool = new FlitePool({
      maxWorkers: Math.max(1, options.maxWorkers ?? Math.max(2, Math.min(3, availableParallelism() + 1))),
      idleWorkerMs: options.idleWorkerMs ?? 10_000,
      onEvent: options.onEvent,
    });
    this.pool.warm();
  }

  /** Resolves once a worker is ready; rejects if the WebAssembly program cannot be loaded or run. */
  whenReady(): Promise<void> {
    return this.pool.whenReady();
  }

  /** Workers alive, busy, and jobs waiting. */
  stats(): { workers: number; busy: number; queued: number } {
    return this.pool.stats();
  }

  /** One run of Flite over the whole text; rejects with the signal's reason as soon as it aborts. */
  async synthesize(text: string, options: SynthesisOptions, signal?: AbortSignal): Promise<SynthesizedAudio> {
    if (this.closed) throw new FliteError('closed', 'the Flite synthesizer is closed');
    if (!FLITE_VOICES.some((voice) => voice.id === options.voice)) {
      throw new FliteError('unknown_voice', `unknown Flite voice "${options.voice}"`);
    }
    const speed = Math.min(2, Math.max(0.5, options.speed ?? 1));
    const work = {
      text,
      voice: options.voice,
      durationStretch: 1 / speed,
      ...(options.opusBitrate ? { opusBitrate: options.opusBitrate } : {}),
    };
    const audio = await this.pool.run(options.requester ?? ANONYMOUS, work, signal);
    if (seconds(audio) > this.maxAudioSeconds) throw audioTooLongError(this.maxAudioSeconds);
    return audio;
  }

  /**
   * Synthesises `text` sentence by sentence, yielding each sentence's audio as soon as it is ready while
   * the next one is already queued. Stops (and frees the worker, even mid-sentence) when `signal` aborts or
   * the caller stops iterating; throws `audio_too_long` before yielding audio past the limit.
   */
  async *synthesizeSentences(text: string, options: SynthesisOptions, signal?: AbortSignal) {
    const sentences = splitIntoSentences(text);
    const stop = new AbortController();
    const jobSignal = signal ? AbortSignal.any([signal, stop.signal]) : stop.signal;
    // Ask for two pieces ahead so no time is lost between sentences.
    const inFlight: { text: string; audio: Promise<SynthesizedAudio> }[] = [];
    let next = 0;
    let total = 0;
    const fill = () => {
      while (inFlight.length < 2 && next < sentences.length) {
        const sentence = sentences[next++]!;
        const audio = this.synthesize(sentence, options, jobSignal);
        audio.catch(() => undefined); // observed when awaited below; avoid an unhandled rejection meanwhile
        inFlight.push({ text: sentence, audio });
      }
    };
    try {
      fill();
      while (inFlight.length > 0) {
        signal?.throwIfAborted();
        const piece = inFlight.shift()!;
        const audio = await piece.audio;
        signal?.throwIfAborted();
        total += seconds(audio);
        if (total > this.maxAudioSeconds) throw audioTooLongError(this.maxAudioSeconds);
        fill();
        yield { text: piece.text, ...audio };
      }
    } finally {
      stop.abort(); // the caller stopped early or something failed: free the pieces still queued or running
    }
  }

  /** Fails pending work and resolves once every worker thread has exited. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.close();
  }
}

function seconds(audio: SynthesizedAudio): number {
  return audio.pcm.length / 2 / audio.sampleRate;
}

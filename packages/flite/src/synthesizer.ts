import { Worker } from 'node:worker_threads';
import { FLITE_VOICES } from './voices.js';
import { splitIntoSentences } from './sentences.js';

export interface SynthesisOptions {
  /** A Flite voice id from FLITE_VOICES. */
  readonly voice: string;
  /** 1 is normal; 1.2 speaks 20% faster. Clamped to 0.5–2. */
  readonly speed?: number;
}

export interface SynthesizedAudio {
  readonly sampleRate: number;
  /** Signed 16-bit little-endian mono PCM. */
  readonly pcm: Buffer;
}

interface PendingJob {
  resolve(audio: SynthesizedAudio): void;
  reject(error: Error): void;
}

type WorkerReply =
  { ready: true } | { id: number; sampleRate: number; pcm: ArrayBuffer } | { id: number; error: string };

/** One worker thread running Flite jobs in order. */
class FliteWorker {
  private worker: Worker | undefined;
  private readonly pending = new Map<number, PendingJob>();
  private nextId = 0;
  readonly ready: Promise<void>;

  constructor() {
    this.ready = this.start();
    this.ready.catch(() => undefined);
  }

  private start(): Promise<void> {
    const worker = new Worker(new URL('./worker.js', import.meta.url));
    this.worker = worker;
    // An idle synthesizer must not keep the process alive; one with queued jobs must.
    if (this.pending.size === 0) worker.unref();
    worker.on('error', (error: Error) => this.failAll(error));
    worker.on('exit', () => this.failAll(new Error('the Flite worker stopped')));
    return new Promise((resolve, reject) => {
      worker.once('error', reject);
      worker.on('message', (reply: WorkerReply) => {
        if ('ready' in reply) return resolve();
        this.settle(reply);
      });
    });
  }

  /** Queues a job and posts it once the worker is ready. */
  run(text: string, voice: string, durationStretch: number): Promise<SynthesizedAudio> {
    const id = this.nextId++;
    return new Promise<SynthesizedAudio>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker?.ref();
      this.ready.then(
        () => {
          this.worker!.postMessage({ id, text, voice, durationStretch });
        },
        (error: Error) => {
          this.pending.delete(id);
          reject(error);
        },
      );
    });
  }

  async close(): Promise<void> {
    await this.ready.catch(() => undefined);
    const worker = this.worker;
    if (!worker) return;
    worker.postMessage({ type: 'close' });
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => void worker.terminate().then(() => resolve()), 2000);
      worker.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  private settle(reply: Exclude<WorkerReply, { ready: true }>) {
    const job = this.pending.get(reply.id);
    if (!job) return;
    this.pending.delete(reply.id);
    if (this.pending.size === 0) this.worker?.unref();
    if ('error' in reply) job.reject(new Error(`Flite failed: ${reply.error}`));
    else job.resolve({ sampleRate: reply.sampleRate, pcm: Buffer.from(reply.pcm) });
  }

  private failAll(error: Error) {
    for (const job of this.pending.values()) job.reject(error);
    this.pending.clear();
  }
}

/**
 * Flite speech synthesis off the main thread: jobs run one at a time, in order, on one worker thread.
 * Create one per process and close it on shutdown.
 */
export class FliteSynthesizer {
  private readonly worker = new FliteWorker();
  private closed = false;

  /** Resolves once the WebAssembly module is compiled; rejects if it cannot be loaded. */
  whenReady(): Promise<void> {
    return this.worker.ready;
  }

  synthesize(text: string, options: SynthesisOptions): Promise<SynthesizedAudio> {
    if (this.closed) return Promise.reject(new Error('the Flite synthesizer is closed'));
    if (!FLITE_VOICES.some((voice) => voice.id === options.voice)) {
      return Promise.reject(new Error(`unknown Flite voice "${options.voice}"`));
    }
    const speed = Math.min(2, Math.max(0.5, options.speed ?? 1));
    return this.worker.run(text, options.voice, 1 / speed);
  }

  /**
   * Synthesises `text` sentence by sentence, yielding each sentence's audio as soon as it is ready while
   * the next one is already being generated.
   */
  async *synthesizeSentences(text: string, options: SynthesisOptions, signal?: AbortSignal) {
    const sentences = splitIntoSentences(text);
    // Ask for two pieces ahead so the worker is never idle while the caller streams the current one.
    const inFlight: { text: string; audio: Promise<SynthesizedAudio> }[] = [];
    let next = 0;
    const fill = () => {
      while (inFlight.length < 2 && next < sentences.length) {
        const sentence = sentences[next++]!;
        const audio = this.synthesize(sentence, options);
        audio.catch(() => undefined); // observed when awaited below; avoid an unhandled rejection meanwhile
        inFlight.push({ text: sentence, audio });
      }
    };
    fill();
    while (inFlight.length > 0) {
      signal?.throwIfAborted();
      const piece = inFlight.shift()!;
      const audio = await piece.audio;
      signal?.throwIfAborted();
      fill();
      yield { text: piece.text, ...audio };
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.worker.close();
  }
}

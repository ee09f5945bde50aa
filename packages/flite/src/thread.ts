import { Worker } from 'node:worker_threads';
import type { CompiledFlite } from './wasm-module.js';

export interface SynthesizedAudio {
  readonly sampleRate: number;
  /** Signed 16-bit little-endian mono PCM. */
  readonly pcm: Buffer;
  /** The same clip as Opus packets from a fresh encoder (see encodeClip), when the job asked for them. */
  readonly opus?: readonly Uint8Array[];
}

/** One run of the Flite program. */
export interface ThreadJob {
  readonly text: string;
  readonly voice: string;
  readonly durationStretch: number;
  /** Also encode the clip to Opus at this bit rate, on the worker. */
  readonly opusBitrate?: number;
}

/** Why a thread ended: stopped by us (retired when idle, its job aborted, the pool closed) or not (crashed). */
export type ThreadExitReason = 'retired' | 'aborted' | 'closed' | 'crashed';

type WorkerReply =
  | { ready: true }
  | { id: number; sampleRate: number; pcm: ArrayBuffer; opus?: ArrayBuffer; opusSizes?: number[] }
  | { id: number; error: string };

/** The thread ended while a job was on it; the pool decides what that means for the job. */
export class ThreadExitedError extends Error {
  constructor(readonly reason: ThreadExitReason) {
    super(`the Flite worker stopped (${reason})`);
  }
}

/**
 * One Flite worker thread, running at most one job at a time so that a crash or a termination affects
 * exactly one known job. It holds the process open only while it has work.
 */
export class FliteThread {
  readonly worker: Worker;
  /** Resolves once the worker has loaded; rejects if it exits before. */
  readonly ready: Promise<void>;
  /** Resolves when the worker has exited, with why and what it reported last. */
  readonly exited: Promise<{ reason: ThreadExitReason; error: Error | undefined }>;
  isReady = false;
  private stopReason: ThreadExitReason | undefined;
  private running:
    { id: number; resolve(audio: SynthesizedAudio): void; reject(error: Error): void } | undefined;
  private nextId = 0;

  constructor(module: CompiledFlite) {
    // Plain JavaScript with no loader needs: the parent's flags (loaders, --input-type, --inspect) would
    // only slow its start or break it.
    this.worker = new Worker(new URL('./worker.js', import.meta.url), {
      workerData: { module },
      execArgv: [],
    });
    this.worker.unref();
    let lastError: Error | undefined;
    this.worker.on('error', (error: Error) => {
      lastError = error;
    });
    this.exited = new Promise((resolve) => {
      this.worker.once('exit', () => {
        const reason = this.stopReason ?? 'crashed';
        this.running?.reject(new ThreadExitedError(reason));
        this.running = undefined;
        resolve({ reason, error: lastError });
      });
    });
    this.ready = new Promise<void>((resolve, reject) => {
      this.worker.on('message', (reply: WorkerReply) => {
        if (!('ready' in reply)) return this.settle(reply);
        this.isReady = true;
        resolve();
      });
      void this.exited.then(({ reason, error }) => reject(error ?? new ThreadExitedError(reason)));
    });
    this.ready.catch(() => undefined);
  }

  get busy(): boolean {
    return this.running !== undefined;
  }

  run(job: ThreadJob): Promise<SynthesizedAudio> {
    if (this.running) return Promise.reject(new Error('a Flite worker runs one job at a time'));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.running = { id, resolve, reject };
      this.worker.ref();
      this.worker.postMessage({ id, ...job });
    });
  }

  /** Keeps the process alive while jobs wait for this (starting) worker. */
  hold(held: boolean): void {
    if (held || this.running) this.worker.ref();
    else this.worker.unref();
  }

  /** Terminates the thread, interrupting any WebAssembly run; the running job fails with ThreadExitedError. */
  async stop(reason: Exclude<ThreadExitReason, 'crashed'>): Promise<void> {
    this.stopReason ??= reason;
    await this.worker.terminate();
    await this.exited;
  }

  private settle(reply: Exclude<WorkerReply, { ready: true }>) {
    const job = this.running;
    if (!job || job.id !== reply.id) return;
    this.running = undefined;
    this.worker.unref();
    if ('error' in reply) job.reject(new Error(reply.error));
    else job.resolve({ sampleRate: reply.sampleRate, pcm: Buffer.from(reply.pcm), ...packetsOf(reply) });
  }
}

/** The packets the worker sent back-to-back in one transferred buffer. */
function packetsOf(reply: { opus?: ArrayBuffer; opusSizes?: number[] }): { opus?: Uint8Array[] } {
  if (!reply.opus || !reply.opusSizes) return {};
  const packets: Uint8Array[] = [];
  let offset = 0;
  for (const size of reply.opusSizes) {
    packets.push(new Uint8Array(reply.opus, offset, size));
    offset += size;
  }
  return { opus: packets };
}

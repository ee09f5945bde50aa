import type { Worker } from 'node:worker_threads';
import { crashedError, FliteError } from './errors.js';
import {
  FliteThread,
  ThreadExitedError,
  type SynthesizedAudio,
  type ThreadExitReason,
  type ThreadJob,
} from './thread.js';
import { RequesterTurns } from './turns.js';
import { compileFlite, type CompiledFlite } from './wasm-module.js';

/** What the pool does, as it happens: for diagnostics, benchmarks and fault tests. Listeners must not throw. */
export type FliteEvent =
  | { readonly type: 'worker-spawned'; readonly workerId: number; readonly worker: Worker }
  | { readonly type: 'worker-ready'; readonly workerId: number; readonly startMs: number }
  | { readonly type: 'worker-exited'; readonly workerId: number; readonly reason: ThreadExitReason }
  | { readonly type: 'job-queued'; readonly requester: string; readonly text: string }
  | {
      readonly type: 'job-started';
      readonly workerId: number;
      readonly worker: Worker;
      readonly requester: string;
      readonly text: string;
    }
  | {
      readonly type: 'job-finished';
      readonly requester: string;
      readonly text: string;
      readonly outcome: 'done' | 'failed' | 'aborted' | 'crashed' | 'closed';
    };

export interface PoolOptions {
  readonly maxWorkers: number;
  /** How long an idle worker beyond the first lives. */
  readonly idleWorkerMs: number;
  readonly onEvent?: (event: FliteEvent) => void;
}

interface Job {
  readonly requester: string;
  readonly work: ThreadJob;
  readonly signal: AbortSignal | undefined;
  readonly resolve: (audio: SynthesizedAudio) => void;
  readonly reject: (error: unknown) => void;
  readonly onAbort: () => void;
  settled: boolean;
}

interface Slot {
  readonly id: number;
  readonly thread: FliteThread;
  job: Job | undefined;
  idleTimer: NodeJS.Timeout | undefined;
}

/**
 * Flite worker threads shared fairly by requesters (users). Each requester runs at most one job at a time
 * and free workers go to waiting requesters in turn (RequesterTurns); one spare worker is kept started
 * (up to `maxWorkers`) so a newcomer never waits for a worker to boot. So one requester's long speech
 * holds one worker, never all of them, and another requester's first sentence starts at once. Flite runs
 * far faster than real time, so a requester gains nothing from more than one worker.
 *
 * A job that is aborted while Flite runs it cannot be interrupted inside the WebAssembly call: its worker
 * is terminated and replaced. A worker that dies fails only the job it was running; the next job gets a
 * fresh worker. Idle workers beyond the first are retired after `idleWorkerMs`.
 */
export class FlitePool {
  private readonly waiting = new RequesterTurns<Job>();
  private readonly slots = new Set<Slot>();
  private readonly exits = new Set<Promise<unknown>>();
  private module: CompiledFlite | undefined;
  private loading: Promise<CompiledFlite> | undefined;
  private nextWorkerId = 1;
  private readyWaiters = 0;
  /** Why the last worker died while starting, until one starts. */
  private startFailure: Error | undefined;
  private closed = false;

  constructor(private readonly options: PoolOptions) {}

  /** Compiles Flite and starts the first worker in the background, so the first sentence is fast. */
  warm(): void {
    this.pump();
  }

  /** Resolves once a worker is ready to run a job; rejects if Flite cannot be loaded or started. */
  async whenReady(): Promise<void> {
    if (this.closed) throw new FliteError('closed', 'the Flite synthesizer is closed');
    if ([...this.slots].some((slot) => slot.thread.isReady)) return;
    this.readyWaiters++; // a starting worker holds the process open while someone waits for it
    try {
      await this.load();
      this.pump();
      const starting = [...this.slots].find((slot) => !slot.thread.isReady);
      if (starting) await starting.thread.ready;
    } finally {
      this.readyWaiters--;
    }
  }

  run(requester: string, work: ThreadJob, signal?: AbortSignal): Promise<SynthesizedAudio> {
    if (this.closed) return Promise.reject(new FliteError('closed', 'the Flite synthesizer is closed'));
    if (signal?.aborted) return Promise.reject(abortReason(signal));
    return new Promise<SynthesizedAudio>((resolve, reject) => {
      const job: Job = {
        requester,
        work,
        signal,
        resolve,
        reject,
        settled: false,
        onAbort: () => this.abort(job),
      };
      signal?.addEventListener('abort', job.onAbort, { once: true });
      this.waiting.push(requester, job);
      this.emit({ type: 'job-queued', requester, text: work.text });
      this.pump();
    });
  }

  /** Workers alive now, busy, and jobs waiting: for tests and diagnostics. */
  stats(): { workers: number; busy: number; queued: number } {
    const slots = [...this.slots];
    return {
      workers: slots.length,
      busy: slots.filter((slot) => slot.job).length,
      queued: this.waiting.size,
    };
  }

  /** Fails waiting and running jobs and resolves once every worker thread has exited. */
  async close(): Promise<void> {
    this.closed = true;
    const error = new FliteError('closed', 'the Flite synthesizer is closed');
    for (const job of this.waiting.drain()) this.finish(job, 'closed', error);
    for (const slot of this.slots) {
      if (slot.job) this.finish(slot.job, 'closed', error);
      slot.job = undefined;
      clearTimeout(slot.idleTimer);
      void slot.thread.stop('closed');
    }
    this.slots.clear();
    await Promise.all(this.exits);
  }

  /** Hands free workers to waiting requesters in turn, then starts workers for those still waiting. */
  private pump(): void {
    if (this.closed) return;
    if (!this.module) {
      if (this.waiting.hasWaiting || this.slots.size === 0) void this.load().catch(() => undefined);
      return;
    }
    for (let slot = this.idleSlot(); slot; slot = this.idleSlot()) {
      const next = this.waiting.take(this.busyRequesters());
      if (!next) break;
      this.dispatch(slot, next.item);
    }
    // A worker for each requester still waiting, plus one spare so a newcomer's first sentence never waits
    // for a worker to start (an idle pool keeps just that one).
    const free = [...this.slots].filter((slot) => !slot.job).length;
    const waiting = this.waiting.waitingRequesters(this.busyRequesters());
    let wanted = Math.min(waiting + 1 - free, this.options.maxWorkers - this.slots.size);
    const someoneWaits = this.waiting.hasWaiting || this.readyWaiters > 0;
    if (this.startFailure) wanted = this.slots.size === 0 && someoneWaits ? 1 : 0;
    for (let i = 0; i < wanted; i++) this.spawn(this.module);
    for (const slot of this.slots) slot.thread.hold(someoneWaits && !slot.thread.isReady);
  }

  private load(): Promise<CompiledFlite> {
    this.loading ??= compileFlite().then(
      (module) => {
        this.module = module;
        this.pump();
        return module;
      },
      (error: unknown) => {
        this.loading = undefined;
        this.failQueued(error);
        throw error;
      },
    );
    return this.loading;
  }

  private spawn(module: CompiledFlite): void {
    const started = performance.now();
    const slot: Slot = {
      id: this.nextWorkerId++,
      thread: new FliteThread(module),
      job: undefined,
      idleTimer: undefined,
    };
    this.slots.add(slot);
    this.emit({ type: 'worker-spawned', workerId: slot.id, worker: slot.thread.worker });
    slot.thread.ready.then(
      () => {
        this.startFailure = undefined;
        this.emit({ type: 'worker-ready', workerId: slot.id, startMs: performance.now() - started });
        this.idle(slot);
        this.pump();
      },
      () => undefined, // handled on exit
    );
    const exit = slot.thread.exited.then(({ reason, error }) => this.onExit(slot, reason, error));
    this.exits.add(exit);
    void exit.finally(() => this.exits.delete(exit));
  }

  private dispatch(slot: Slot, job: Job): void {
    clearTimeout(slot.idleTimer);
    slot.job = job;
    this.emit({
      type: 'job-started',
      workerId: slot.id,
      worker: slot.thread.worker,
      requester: job.requester,
      text: job.work.text,
    });
    slot.thread.run(job.work).then(
      (audio) => {
        slot.job = undefined;
        if (this.settle(job)) {
          job.resolve(audio);
          this.emit({ type: 'job-finished', requester: job.requester, text: job.work.text, outcome: 'done' });
        }
        this.idle(slot);
        this.pump();
      },
      (error: Error) => {
        if (error instanceof ThreadExitedError) return; // onExit settles the job
        slot.job = undefined;
        this.finish(job, 'failed', new FliteError('failed', `Flite failed: ${error.message}`));
        this.idle(slot);
        this.pump();
      },
    );
  }

  /** Aborted while waiting: dropped. Aborted while running: the worker is terminated, and replaced by pump. */
  private abort(job: Job): void {
    if (job.settled) return;
    this.waiting.remove(job.requester, job);
    this.finish(job, 'aborted', job.signal?.reason);
    const slot = [...this.slots].find((candidate) => candidate.job === job);
    if (!slot) return;
    slot.job = undefined;
    this.slots.delete(slot);
    void slot.thread.stop('aborted');
    this.pump();
  }

  private onExit(slot: Slot, reason: ThreadExitReason, error: Error | undefined): void {
    clearTimeout(slot.idleTimer);
    const wasInPool = this.slots.delete(slot);
    this.emit({ type: 'worker-exited', workerId: slot.id, reason });
    if (slot.job) this.finish(slot.job, 'crashed', crashedError(error));
    slot.job = undefined;
    if (!wasInPool || this.closed) return;
    if (!slot.thread.isReady) {
      // It never started: start no more until one does (no respawn loop). Other workers serve the queue;
      // with none left, what waits fails and the next job tries again.
      this.startFailure = error ?? new Error(`the Flite worker exited while starting (${reason})`);
      if (this.slots.size === 0) this.failQueued(this.startFailure);
    }
    this.pump();
  }

  /** Retires an idle worker after a while, unless it is the only free one (the spare). */
  private idle(slot: Slot): void {
    clearTimeout(slot.idleTimer);
    if (slot.job || !this.slots.has(slot)) return;
    slot.idleTimer = setTimeout(() => {
      const free = [...this.slots].filter((other) => !other.job).length;
      if (slot.job || free <= 1 || !this.slots.delete(slot)) return;
      void slot.thread.stop('retired');
    }, this.options.idleWorkerMs);
    slot.idleTimer.unref();
  }

  private busyRequesters(): Set<string> {
    return new Set([...this.slots].flatMap((slot) => (slot.job ? [slot.job.requester] : [])));
  }

  private idleSlot(): Slot | undefined {
    return [...this.slots].find((slot) => slot.thread.isReady && !slot.job);
  }

  private failQueued(cause: unknown): void {
    const message = cause instanceof Error ? cause.message : String(cause);
    const error = new FliteError('unavailable', `The offline voice engine could not start: ${message}`, {
      cause,
    });
    for (const job of this.waiting.drain()) this.finish(job, 'failed', error);
  }

  private finish(job: Job, outcome: 'failed' | 'aborted' | 'crashed' | 'closed', error: unknown): void {
    if (!this.settle(job)) return;
    job.reject(error);
    this.emit({ type: 'job-finished', requester: job.requester, text: job.work.text, outcome });
  }

  /** Marks the job settled; false if it already was. */
  private settle(job: Job): boolean {
    if (job.settled) return false;
    job.settled = true;
    job.signal?.removeEventListener('abort', job.onAbort);
    return true;
  }

  private emit(event: FliteEvent): void {
    this.options.onEvent?.(event);
  }
}

/** The signal's reason as an Error (AbortSignal reasons are `unknown`; abort() without one gives a DOMException). */
function abortReason(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  return reason instanceof Error ? reason : new DOMException('This operation was aborted', 'AbortError');
}

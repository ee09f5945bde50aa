export interface BehindNewCallsOptions {
  /** A pause this long in new calls lets deferred work run. @default QUIET_MS */
  readonly quietMs?: number;
  /** However busy, deferred work waits at most this long. @default MAX_WAIT_MS */
  readonly maxWaitMs?: number;
  /** Milliseconds on a monotonic clock. @default performance.now */
  readonly now?: () => number;
}

/** About one call's worth of work before its upstream request: a gap this long means the burst is over. */
export const QUIET_MS = 2;
/** Bounds how long a call's own work can be held back by others arriving: under ElevenLabs' ~300 ms to first audio. */
export const MAX_WAIT_MS = 250;

/**
 * Holds the rest of each begun call's work (the MCP SDK's: a millisecond or so per call) while new calls keep
 * arriving, then lets it run one call per turn of the event loop, with waiting I/O (audio arriving from
 * upstream, more requests) handled between.
 *
 * Why: when 200 calls arrive at once, what matters is how soon each one's upstream request leaves; the SDK's
 * work for a call only decides when its answer is ready, seconds later, after the speech. Run as each call
 * arrives, that work doubled the time before the last upstream request left; run back to back after the
 * burst, it would hold up the first audio coming back. A call waits at most `maxWaitMs`, so a steady stream of
 * new calls cannot starve the ones already begun.
 */
export class BehindNewCalls {
  private readonly quietMs: number;
  private readonly maxWaitMs: number;
  private readonly now: () => number;
  private readonly waiting: { readonly resolve: () => void; readonly since: number }[] = [];
  private lastArrival = -Infinity;
  private scheduled = false;

  constructor(options: BehindNewCallsOptions = {}) {
    this.quietMs = options.quietMs ?? QUIET_MS;
    this.maxWaitMs = options.maxWaitMs ?? MAX_WAIT_MS;
    this.now = options.now ?? (() => performance.now());
  }

  /** Called by a call that has just begun: resolves when the rest of its work may run. */
  turn(): Promise<void> {
    const now = this.now();
    this.lastArrival = now;
    return new Promise((resolve) => {
      this.waiting.push({ resolve, since: now });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled || this.waiting.length === 0) return;
    this.scheduled = true;
    const wait =
      Math.min(this.lastArrival + this.quietMs, this.waiting[0]!.since + this.maxWaitMs) - this.now();
    if (wait > 0) setTimeout(() => this.release(), Math.ceil(wait));
    else setImmediate(() => this.release());
  }

  /** Lets the oldest waiter go when the calls paused (or it waited long enough); then looks again. */
  private release(): void {
    this.scheduled = false;
    const now = this.now();
    const oldest = this.waiting[0];
    if (oldest && (now - this.lastArrival >= this.quietMs || now - oldest.since >= this.maxWaitMs)) {
      this.waiting.shift();
      oldest.resolve();
    }
    this.schedule();
  }
}

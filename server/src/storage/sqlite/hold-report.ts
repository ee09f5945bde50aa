import type { Logger } from 'pino';
import type { Checkpointer } from './checkpointer.js';

/** How often the server says whether writes waited for checkpoints: at most one line a minute. */
export const HOLD_REPORT_EVERY_MS = 60_000;

/**
 * Tells the operator when writes waited for WAL checkpoints (checkpointer.ts: past the hold mark, a group commit
 * waits for the worker instead of growing the log). Nothing else shows it: speech goes on, only history and usage
 * land later. One warning per interval in which held batches went through, with how many and how long they waited
 * in all; nothing while the disk keeps up.
 */
export class HoldReport {
  private reported: { readonly batches: number; readonly ms: number };

  constructor(
    private readonly checkpointer: Pick<Checkpointer, 'heldTime'>,
    private readonly log: Logger,
  ) {
    this.reported = checkpointer.heldTime;
  }

  /** Logs the holds that ended since the last report, if any did. */
  report(): void {
    const now = this.checkpointer.heldTime;
    const batches = now.batches - this.reported.batches;
    if (batches === 0) return;
    const waitedMs = Math.round(now.ms - this.reported.ms);
    this.reported = now;
    this.log.warn(
      { heldBatches: batches, waitedMs },
      `${batches} write ${batches === 1 ? 'batch' : 'batches'} waited ${waitedMs} ms in all for WAL ` +
        'checkpoints: the disk is slower than the writes (history and usage land late; the log stays bounded)',
    );
  }

  /** Reports every `everyMs` until the returned function is called. */
  start(everyMs = HOLD_REPORT_EVERY_MS): () => void {
    const timer = setInterval(() => this.report(), everyMs);
    timer.unref();
    return () => clearInterval(timer);
  }
}

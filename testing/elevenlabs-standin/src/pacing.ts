import { setTimeout as sleep } from 'node:timers/promises';

/** How the stand-in paces audio. Applies to requests that start after it is set. */
export interface Pacing {
  /** Time from the request to the response headers and first audio byte. Default 0. */
  readonly firstByteLatencyMs: number;
  /** Bytes of encoded audio per chunk written (and per NDJSON line on the timestamps stream). Default 4096. */
  readonly chunkBytes: number;
  /** Minimum time between two chunks. Default 0. */
  readonly chunkIntervalMs: number;
  /**
   * Audio is delivered this many times faster than it plays (2: a 4 s clip arrives over ~2 s).
   * 0 or Infinity: as fast as it is synthesised. Default Infinity.
   */
  readonly realtimeFactor: number;
}

export const DEFAULT_PACING: Pacing = {
  firstByteLatencyMs: 0,
  chunkBytes: 4096,
  chunkIntervalMs: 0,
  realtimeFactor: Number.POSITIVE_INFINITY,
};

export function resolvePacing(base: Pacing, change: Partial<Pacing> | undefined): Pacing {
  const merged = { ...base, ...change };
  if (!(merged.firstByteLatencyMs >= 0)) throw new RangeError('firstByteLatencyMs must be ≥ 0');
  if (!(merged.chunkIntervalMs >= 0)) throw new RangeError('chunkIntervalMs must be ≥ 0');
  if (!Number.isInteger(merged.chunkBytes) || merged.chunkBytes < 2) {
    throw new RangeError('chunkBytes must be an integer ≥ 2');
  }
  if (!(merged.realtimeFactor >= 0)) throw new RangeError('realtimeFactor must be ≥ 0 (0 = unpaced)');
  return merged;
}

/** When each chunk of one response is due, counted from the moment the request arrived. */
export class ChunkSchedule {
  private readonly startedAt: number;

  constructor(
    private readonly pacing: Pacing,
    startedAt = performance.now(),
  ) {
    this.startedAt = startedAt;
  }

  private get paced(): boolean {
    const rtf = this.pacing.realtimeFactor;
    return rtf > 0 && Number.isFinite(rtf);
  }

  /** Due time (ms since the request arrived) of chunk `index`, whose audio starts at `audioSeconds`. */
  dueMs(index: number, audioSeconds: number): number {
    const byCadence = index * this.pacing.chunkIntervalMs;
    const byRealtime = this.paced ? (audioSeconds * 1000) / this.pacing.realtimeFactor : 0;
    return this.pacing.firstByteLatencyMs + Math.max(byCadence, byRealtime);
  }

  async waitUntil(dueMs: number, signal: AbortSignal): Promise<void> {
    const wait = this.startedAt + dueMs - performance.now();
    if (wait > 1) await sleep(wait, undefined, { signal });
  }
}

/** Fail the request with this HTTP status and the real API's error body for it (or `body`). */
export interface StatusFault {
  readonly status: 400 | 401 | 402 | 403 | 404 | 422 | 429 | 500 | 503;
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

/** Destroy the socket once `afterBytes` bytes of the response body have been written. */
export interface ResetFault {
  readonly kind: 'reset';
  readonly afterBytes: number;
}

/** Stop writing for `ms` (or until `until` settles, if sooner) once `afterBytes` bytes of the body are written. */
export interface StallFault {
  readonly kind: 'stall';
  readonly afterBytes: number;
  readonly ms: number;
  /** Lets a test hold the stream on an event of its own instead of a time. */
  readonly until?: Promise<unknown>;
}

export interface FaultTarget {
  /** How many matching requests the fault applies to. Default 1. */
  readonly times?: number;
  /** Only requests whose path (without query) matches. A string is read as a regular expression. */
  readonly path?: RegExp | string;
}

export type Fault = (StatusFault | ResetFault | StallFault) & FaultTarget;
export type ByteFault = ResetFault | StallFault;

interface ArmedFault {
  readonly fault: StatusFault | ByteFault;
  readonly path: RegExp | undefined;
  remaining: number;
}

/**
 * Faults waiting for requests, in the order they were injected. A status fault is taken by any matching
 * request; a byte fault only by requests that stream audio.
 */
export class FaultQueue {
  private armed: ArmedFault[] = [];

  add(fault: Fault): void {
    const times = fault.times ?? 1;
    if (!Number.isInteger(times) || times < 1) throw new RangeError('times must be a positive integer');
    const path = fault.path === undefined ? undefined : new RegExp(fault.path);
    if ('kind' in fault && !(fault.afterBytes >= 0)) throw new RangeError('afterBytes must be ≥ 0');
    this.armed.push({ fault: stripTarget(fault), path, remaining: times });
  }

  clear(): void {
    this.armed = [];
  }

  get pending(): number {
    return this.armed.reduce((sum, armed) => sum + armed.remaining, 0);
  }

  takeStatusFault(path: string): StatusFault | undefined {
    return this.take(path, (fault): fault is StatusFault => 'status' in fault);
  }

  takeByteFault(path: string): ByteFault | undefined {
    return this.take(path, (fault): fault is ByteFault => 'kind' in fault);
  }

  private take<T extends StatusFault | ByteFault>(
    path: string,
    isKind: (fault: StatusFault | ByteFault) => fault is T,
  ): T | undefined {
    const armed = this.armed.find((entry) => isKind(entry.fault) && (entry.path?.test(path) ?? true));
    if (!armed) return undefined;
    armed.remaining -= 1;
    if (armed.remaining === 0) this.armed = this.armed.filter((entry) => entry !== armed);
    return armed.fault as T;
  }
}

function stripTarget(fault: Fault): StatusFault | ByteFault {
  if ('kind' in fault) {
    return fault.kind === 'reset'
      ? { kind: 'reset', afterBytes: fault.afterBytes }
      : { kind: 'stall', afterBytes: fault.afterBytes, ms: fault.ms, until: fault.until };
  }
  return { status: fault.status, body: fault.body, headers: fault.headers };
}

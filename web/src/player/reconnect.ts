/**
 * When the player channel tries again after it drops: a jittered exponential backoff for the socket, and a
 * cheap watch on the server's `/healthz` that cuts the wait short the moment a server that was away answers
 * again. Without the watch a 2 s restart cost up to 15 s of silence: the backoff had grown while it was down.
 */

export interface BackoffOptions {
  readonly initialMs?: number;
  readonly maxMs?: number;
  /** 0 ≤ random() < 1; injected by tests. */
  readonly random?: () => number;
}

/** Delays of 0.5 s, 1 s, 2 s… up to 15 s, each ±20 %, so many tabs do not retry in lockstep after a restart. */
export class Backoff {
  private readonly initialMs: number;
  private readonly maxMs: number;
  private readonly random: () => number;
  private delay: number;

  constructor(options: BackoffOptions = {}) {
    this.initialMs = options.initialMs ?? 500;
    this.maxMs = options.maxMs ?? 15_000;
    this.random = options.random ?? Math.random;
    this.delay = this.initialMs;
  }

  /** The delay before the next attempt; each call makes the following one longer. */
  next(): number {
    const delay = this.delay;
    this.delay = Math.min(this.maxMs, this.delay * 2) * (0.8 + this.random() * 0.4);
    return delay;
  }

  reset(): void {
    this.delay = this.initialMs;
  }
}

export interface ServerWatchOptions {
  /** Resolves true when the server answers (its /healthz), false otherwise; never rejects. */
  readonly probe: () => Promise<boolean>;
  /** Called once the server answers after a probe found it away. */
  readonly onBack: () => void;
  /** Shortest time between probes; they space out to a tenth of the downtime, up to maxIntervalMs. */
  readonly intervalMs?: number;
  readonly maxIntervalMs?: number;
  /** Milliseconds on a monotonic clock; injected by tests. */
  readonly now?: () => number;
}

/**
 * Probes while the channel is down. Only a server seen away and then back triggers `onBack`: a server that
 * answers all along refused the socket for another reason (a key revoked, an origin not allowed), and the
 * backoff, not a probe every second, decides when to ask it again.
 */
export class ServerWatch {
  private timer: ReturnType<typeof setTimeout> | undefined;
  private running = false;
  private sawAway = false;
  private since = 0;
  private readonly intervalMs: number;
  private readonly maxIntervalMs: number;
  private readonly now: () => number;

  constructor(private readonly options: ServerWatchOptions) {
    this.intervalMs = options.intervalMs ?? 1000;
    // Long outages (a deployment scaled to zero overnight) must not cost a request a second per open tab.
    this.maxIntervalMs = options.maxIntervalMs ?? 30_000;
    this.now = options.now ?? (() => performance.now());
  }

  /** Starts watching; a watch already running (the outage goes on) keeps what it has seen. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.sawAway = false;
    this.since = this.now();
    this.schedule();
  }

  stop(): void {
    this.running = false;
    clearTimeout(this.timer);
  }

  private schedule(): void {
    const downFor = this.now() - this.since;
    const wait = Math.min(this.maxIntervalMs, Math.max(this.intervalMs, downFor / 10));
    this.timer = setTimeout(() => void this.check(), wait);
  }

  private async check(): Promise<void> {
    const answers = await this.options.probe();
    if (!this.running) return;
    if (!answers) this.sawAway = true;
    else if (this.sawAway) {
      this.stop();
      this.options.onBack();
      return;
    }
    this.schedule();
  }
}

/** `/healthz` beside the player channel's URL (same host and path prefix), over http: or https:. */
export function healthUrl(socketUrl: string): string {
  const url = new URL('healthz', socketUrl);
  url.protocol = url.protocol === 'wss:' ? 'https:' : 'http:';
  return url.toString();
}

/** Whether the server at `url` answers, within 5 s; any failure is "not now". */
export async function answers(url: string): Promise<boolean> {
  try {
    const response = await fetch(url, { cache: 'no-store', signal: AbortSignal.timeout(5000) });
    return response.ok;
  } catch {
    return false;
  }
}

/**
 * A fixed-window counter per client address, for public routes that create state (OAuth registration and
 * authorize): enough to stop one host from filling the store, with bounded memory of its own.
 */
export interface RateLimitOptions {
  /** Requests allowed per window per address. */
  readonly limit: number;
  readonly windowMs: number;
  readonly now?: () => number;
  /** Addresses remembered at most; past this the oldest window's entries are dropped. Default 10,000. */
  readonly maxAddresses?: number;
}

export class RateLimiter {
  private windowStart = 0;
  private readonly counts = new Map<string, number>();
  private readonly now: () => number;

  constructor(private readonly options: RateLimitOptions) {
    this.now = options.now ?? Date.now;
  }

  /** Counts one request; returns the seconds to wait when over the limit, else 0. */
  take(address: string): number {
    const now = this.now();
    if (now - this.windowStart >= this.options.windowMs) {
      this.windowStart = now;
      this.counts.clear();
    }
    const count = (this.counts.get(address) ?? 0) + 1;
    if (!this.counts.has(address) && this.counts.size >= (this.options.maxAddresses ?? 10_000)) {
      // Under a flood of addresses, forgetting is safer than growing: the next window starts now.
      this.counts.clear();
      this.windowStart = now;
    }
    this.counts.set(address, count);
    if (count <= this.options.limit) return 0;
    return Math.max(1, Math.ceil((this.windowStart + this.options.windowMs - now) / 1000));
  }
}

import { describe, expect, it } from 'vitest';
import { RateLimiter } from './rate-limit.js';

describe('RateLimiter', () => {
  it('allows `limit` requests per address per window, then says how long to wait', () => {
    let now = 1_000_000;
    const limiter = new RateLimiter({ limit: 2, windowMs: 60_000, now: () => now });
    expect([limiter.take('a'), limiter.take('a'), limiter.take('b')]).toEqual([0, 0, 0]);
    expect(limiter.take('a')).toBe(60);
    now += 30_000;
    expect(limiter.take('a')).toBe(30);
    now += 30_000;
    expect(limiter.take('a')).toBe(0);
  });

  it('keeps its memory bounded under many addresses', () => {
    const limiter = new RateLimiter({ limit: 1, windowMs: 60_000, now: () => 0, maxAddresses: 3 });
    for (const address of ['a', 'b', 'c', 'd', 'e']) expect(limiter.take(address)).toBe(0);
    expect((limiter as unknown as { counts: Map<string, number> }).counts.size).toBeLessThanOrEqual(3);
  });
});

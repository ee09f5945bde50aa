import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Backoff, healthUrl, ServerWatch } from './reconnect.js';

describe('Backoff', () => {
  it('doubles from 0.5 s up to 15 s, within ±20 % of each step, and starts over on reset', () => {
    const lowest = new Backoff({ random: () => 0 });
    const highest = new Backoff({ random: () => 0.999999 });
    const low = Array.from({ length: 12 }, () => lowest.next());
    const high = Array.from({ length: 12 }, () => highest.next());
    expect(low.slice(0, 4)).toEqual([500, 800, 1280, 2048]);
    expect(high[1]).toBeCloseTo(1200, 0);
    expect(Math.max(...high)).toBeLessThanOrEqual(15_000 * 1.2);
    expect(high.at(-1)).toBeGreaterThan(15_000);
    lowest.reset();
    expect(lowest.next()).toBe(500);
  });
});

describe('ServerWatch', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  /** A watch over a server whose answers the test sets, with the test's clock. */
  function watch(options: { intervalMs?: number; maxIntervalMs?: number } = {}) {
    const server = { up: false, probes: 0, back: 0 };
    const subject = new ServerWatch({
      probe: () => {
        server.probes += 1;
        return Promise.resolve(server.up);
      },
      onBack: () => (server.back += 1),
      now: () => Date.now(),
      ...options,
    });
    return { server, subject };
  }

  it('calls onBack on the first probe that finds the server back after one found it away', async () => {
    const { server, subject } = watch();
    subject.start();
    await vi.advanceTimersByTimeAsync(1000);
    expect(server.probes).toBe(1);
    await vi.advanceTimersByTimeAsync(1000);
    expect(server.back).toBe(0);
    server.up = true;
    await vi.advanceTimersByTimeAsync(1000);
    expect(server.back).toBe(1);
    // Done: no more probes until started again.
    await vi.advanceTimersByTimeAsync(10_000);
    expect(server.probes).toBe(3);
  });

  it('never calls onBack while the server answers all along (the socket failed for another reason)', async () => {
    const { server, subject } = watch();
    server.up = true;
    subject.start();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(server.probes).toBeGreaterThan(3);
    expect(server.back).toBe(0);
    subject.stop();
  });

  it('keeps what it saw when started again during the same outage', async () => {
    const { server, subject } = watch();
    subject.start();
    await vi.advanceTimersByTimeAsync(1000);
    subject.start();
    server.up = true;
    await vi.advanceTimersByTimeAsync(1000);
    expect(server.back).toBe(1);
  });

  it('probes less often as the outage goes on, never less than once per maxIntervalMs', async () => {
    const { server, subject } = watch({ intervalMs: 1000, maxIntervalMs: 30_000 });
    subject.start();
    await vi.advanceTimersByTimeAsync(10_000);
    const firstTen = server.probes;
    expect(firstTen).toBe(10);
    await vi.advanceTimersByTimeAsync(600_000);
    const later = server.probes - firstTen;
    expect(later).toBeLessThan(600 / 10);
    expect(later).toBeGreaterThanOrEqual(600 / 30);
    subject.stop();
    const stopped = server.probes;
    await vi.advanceTimersByTimeAsync(60_000);
    expect(server.probes).toBe(stopped);
  });
});

describe('healthUrl', () => {
  it('is /healthz beside the channel, on http: or https:', () => {
    expect(healthUrl('ws://127.0.0.1:8080/ws')).toBe('http://127.0.0.1:8080/healthz');
    expect(healthUrl('wss://earshot.example/ws')).toBe('https://earshot.example/healthz');
    expect(healthUrl('wss://example.org/earshot/ws')).toBe('https://example.org/earshot/healthz');
  });
});

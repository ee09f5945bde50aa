import { Writable } from 'node:stream';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { retryInBackground, STORE_RETRY_DELAYS_MS } from './retry.js';

/** A logger whose JSON lines land in `lines`. */
function capturingLogger() {
  const lines: { level: number; msg: string; retryInMs?: number }[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()) as (typeof lines)[number]);
      done();
    },
  });
  return { log: pino({ level: 'info' }, sink), lines };
}

/** A write that fails `failures` times, then succeeds; `at` holds the fake clock at each attempt. */
function flakyWrite(failures: number) {
  const at: number[] = [];
  const write = async () => {
    at.push(Date.now());
    if (at.length <= failures) throw new Error('store unavailable (simulated)');
  };
  return { write, at };
}

describe('retryInBackground', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 0 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('backs off 200 ms, 1 s, 5 s and 15 s by default', async () => {
    expect(STORE_RETRY_DELAYS_MS).toEqual([200, 1000, 5000, 15_000]);
    const { log } = capturingLogger();
    const { write, at } = flakyWrite(4);
    let done = false;
    void retryInBackground(write, log, 'history').then(() => (done = true));
    await vi.advanceTimersByTimeAsync(21_199);
    expect(at).toEqual([0, 200, 1200, 6200]);
    expect(done).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(at).toEqual([0, 200, 1200, 6200, 21_200]);
    expect(done).toBe(true);
  });

  it('waits the injected delays between attempts, then logs the record as lost', async () => {
    const { log, lines } = capturingLogger();
    const { write, at } = flakyWrite(Infinity);
    const finished = retryInBackground(write, log, 'usage', [30, 70]);
    await vi.advanceTimersByTimeAsync(100);
    await finished;
    expect(at).toEqual([0, 30, 100]);
    expect(lines.map((line) => [line.msg, line.retryInMs])).toEqual([
      ['store write failed; retrying', 30],
      ['store write failed; retrying', 70],
      ['store write failed after retries; record lost', undefined],
    ]);
  });

  it('stops retrying once a write succeeds', async () => {
    const { log, lines } = capturingLogger();
    const { write, at } = flakyWrite(1);
    const finished = retryInBackground(write, log, 'history', [5, 5, 5]);
    await vi.advanceTimersByTimeAsync(5);
    await finished;
    await vi.advanceTimersByTimeAsync(1000);
    expect(at).toEqual([0, 5]);
    expect(lines).toHaveLength(1);
  });
});

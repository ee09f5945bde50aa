import { afterEach, describe, expect, it, vi } from 'vitest';
import { BehindNewCalls } from './behind-new-calls.js';

describe('BehindNewCalls', () => {
  afterEach(() => vi.useRealTimers());

  /** Each call's deferred work, noted with the (fake) time it was let go. */
  function lane(options: { quietMs: number; maxWaitMs: number }) {
    const calls = new BehindNewCalls({ ...options, now: () => Date.now() });
    const released: [string, number][] = [];
    const arrive = (name: string) => void calls.turn().then(() => released.push([name, Date.now()]));
    return { arrive, released };
  }

  it('holds the deferred work while new calls keep arriving, then lets it go in order once they pause', async () => {
    vi.useFakeTimers({ now: 0 });
    const { arrive, released } = lane({ quietMs: 2, maxWaitMs: 30 });
    for (const name of ['a', 'b', 'c']) {
      arrive(name);
      await vi.advanceTimersByTimeAsync(1);
    }
    // c arrived at 2: at 3 the calls have paused for 1 ms only.
    expect(released).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(released).toEqual([['a', 4]]);
    // The others follow, one per turn.
    await vi.runAllTimersAsync();
    expect(released.map(([name]) => name)).toEqual(['a', 'b', 'c']);
  });

  it('lets a call go after maxWaitMs however many keep arriving', async () => {
    vi.useFakeTimers({ now: 0 });
    const { arrive, released } = lane({ quietMs: 2, maxWaitMs: 30 });
    arrive('first');
    for (let ms = 1; ms <= 40; ms++) {
      await vi.advanceTimersByTimeAsync(1);
      arrive(`at ${ms}`);
    }
    expect(released[0]).toEqual(['first', 30]);
    expect(released[1]).toEqual(['at 1', 31]);
  });

  it('lets one call go per turn of the event loop, with what the loop has queued running in between', async () => {
    const calls = new BehindNewCalls({ quietMs: 0 });
    const order: string[] = [];
    const turns = ['a', 'b', 'c'].map((name) => calls.turn().then(() => order.push(name)));
    // Stands for I/O the loop handles meanwhile: each is queued as the next turn starts.
    let other = 0;
    const others = new Promise<void>((resolve) => {
      const tick = () => {
        order.push(`io${++other}`);
        if (other < 3) setImmediate(tick);
        else resolve();
      };
      setImmediate(tick);
    });
    await Promise.all([...turns, others]);
    expect(order).toEqual(['a', 'io1', 'b', 'io2', 'c', 'io3']);
  });
});

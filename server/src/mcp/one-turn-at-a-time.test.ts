import { describe, expect, it } from 'vitest';
import { OneTurnAtATime } from './one-turn-at-a-time.js';

describe('OneTurnAtATime', () => {
  it('resolves one waiter per turn of the event loop, letting what the loop has queued run in between', async () => {
    const lane = new OneTurnAtATime();
    const order: string[] = [];
    const turns = ['a', 'b', 'c'].map((name) => lane.turn().then(() => order.push(name)));
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

  it('keeps serving after it ran dry', async () => {
    const lane = new OneTurnAtATime();
    await lane.turn();
    await Promise.all([lane.turn(), lane.turn()]);
    await lane.turn();
  });
});

import { describe, expect, it } from 'vitest';
import { RequesterTurns } from './turns.js';

const none = new Set<string>();

/** Takes everything, one at a time, as if each job finished before the next was handed out. */
function order(turns: RequesterTurns<string>): string[] {
  const taken: string[] = [];
  for (let next = turns.take(none); next; next = turns.take(none)) taken.push(next.item);
  return taken;
}

describe('RequesterTurns', () => {
  it('alternates between requesters whatever order their work arrived in', () => {
    const turns = new RequesterTurns<string>();
    for (const item of ['a1', 'a2', 'a3', 'b1', 'c1', 'b2']) turns.push(item[0]!, item);
    expect(order(turns)).toEqual(['a1', 'b1', 'c1', 'a2', 'b2', 'a3']);
  });

  it('serves a newcomer before a requester it has just served', () => {
    const turns = new RequesterTurns<string>();
    turns.push('a', 'a1');
    turns.push('a', 'a2');
    expect(turns.take(none)?.item).toBe('a1');
    turns.push('b', 'b1'); // arrives after a2 was queued
    expect(turns.take(none)?.item).toBe('b1');
    expect(turns.take(none)?.item).toBe('a2');
  });

  it('skips requesters that already have a job running', () => {
    const turns = new RequesterTurns<string>();
    turns.push('a', 'a1');
    turns.push('b', 'b1');
    expect(turns.waitingRequesters(new Set(['a']))).toBe(1);
    expect(turns.take(new Set(['a']))?.item).toBe('b1');
    expect(turns.take(new Set(['a']))).toBeUndefined();
    expect(turns.take(none)?.item).toBe('a1');
  });

  it('forgets a requester once it has nothing waiting or running: its next speech comes as a newcomer', () => {
    const turns = new RequesterTurns<string>();
    turns.push('b', 'b1');
    turns.push('b', 'b2');
    turns.push('a', 'a1');
    expect(turns.take(none)?.item).toBe('b1');
    expect(turns.take(new Set(['b']))?.item).toBe('a1'); // served after b
    expect(turns.take(new Set(['b']))).toBeUndefined(); // a1 done, b1 still running: a is forgotten
    turns.push('a', 'a2');
    expect(order(turns)).toEqual(['a2', 'b2']);
  });

  it('removes an aborted item and drains the rest', () => {
    const turns = new RequesterTurns<string>();
    turns.push('a', 'a1');
    turns.push('a', 'a2');
    turns.push('b', 'b1');
    expect(turns.remove('a', 'a1')).toBe(true);
    expect(turns.remove('a', 'a1')).toBe(false);
    expect(turns.size).toBe(2);
    expect(turns.drain().sort()).toEqual(['a2', 'b1']);
    expect(turns.hasWaiting).toBe(false);
    expect(turns.take(none)).toBeUndefined();
  });
});

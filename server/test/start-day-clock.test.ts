// The test servers' day does not change under a test: usage and budget checks read "today" before and after
// a call, and a run across a UTC midnight once failed CI that way.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { startDayClock } from './support/start-day-clock.mjs';

const PRELOAD = fileURLToPath(new URL('./support/pin-start-day.mjs', import.meta.url));
const BEFORE_MIDNIGHT = Date.UTC(2026, 11, 1, 23, 59, 59, 500);
const LAST_MS_OF_DAY = Date.UTC(2026, 11, 2) - 1;

describe('the start-day clock', () => {
  it('is the real clock during the day it started, and holds at its last millisecond past midnight', () => {
    let real = BEFORE_MIDNIGHT;
    const clock = startDayClock(() => real);
    expect(clock()).toBe(BEFORE_MIDNIGHT);
    real += 499;
    expect(clock()).toBe(LAST_MS_OF_DAY);
    real += 60_000;
    expect(clock()).toBe(LAST_MS_OF_DAY);
  });

  it('pins Date in a child process (the preload earshot-process.ts gives `earshot serve`)', async () => {
    // A module imported before the preload stands in for the system clock, half a second before midnight.
    const fakeSystemClock = `data:text/javascript,let t=${BEFORE_MIDNIGHT};Date.now=()=>t;globalThis.advance=(ms)=>{t+=ms}`;
    const script = `
      const read = () => [new Date().toISOString(), Date.now(), Date().slice(0, 15), new Date() instanceof Date];
      const before = read();
      advance(60_000);
      console.log(JSON.stringify({ before, after: read(), epoch: new Date(0).toISOString() }));`;
    const args = ['--import', fakeSystemClock, '--import', PRELOAD, '-e', script];
    // Date() prints local time: the child reads UTC, as the day it is held on is a UTC day.
    const { stdout } = await promisify(execFile)(process.execPath, args, {
      env: { ...process.env, TZ: 'UTC' },
    });
    expect(JSON.parse(stdout)).toEqual({
      before: ['2026-12-01T23:59:59.500Z', BEFORE_MIDNIGHT, 'Tue Dec 01 2026', true],
      after: ['2026-12-01T23:59:59.999Z', LAST_MS_OF_DAY, 'Tue Dec 01 2026', true],
      epoch: '1970-01-01T00:00:00.000Z',
    });
  });
});

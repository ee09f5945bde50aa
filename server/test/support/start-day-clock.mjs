// Plain JavaScript (types in JSDoc): pin-start-day.mjs loads it into spawned servers without a TypeScript loader.

/**
 * A clock that keeps a test server on the UTC day it started. The tests compare today's usage and budget
 * before and after a call; a run that crosses midnight would find a new, empty day in between (a CI run that
 * crossed one saw a budget of "used + 10" turn into a fresh day's 0 + used + 10). Until that midnight this is
 * the real clock; after it, time stands at the day's last millisecond.
 * @param {() => number} [realNow]
 * @returns {() => number}
 */
export function startDayClock(realNow = Date.now) {
  const start = new Date(realNow());
  const lastOfDay = Date.UTC(start.getUTCFullYear(), start.getUTCMonth(), start.getUTCDate() + 1) - 1;
  return () => Math.min(realNow(), lastOfDay);
}

/** See start-day-clock.mjs (plain JavaScript, for spawned processes). */
export function startDayClock(realNow?: () => number): () => number;

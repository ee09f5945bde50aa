/**
 * Loaded into Earshot and into the floor relay beside the call-path probe (`node --import`, see targets.ts):
 * records each garbage collection's pause of the main thread, as Node's performance timeline reports it, so the
 * crowd scenario can say how much of a burst's server CPU went to pauses for GC (the twenty-third round found the
 * scavenges of c's bursts copying ~75 KB per speech in flight). Only the main thread's pauses are here: what V8's
 * helper threads do meanwhile shows in the by-thread CPU split (V8Worker). The entries are written, as JSON, when
 * the process exits; an observer callback per collection is all it adds while the server runs.
 *
 *   EARSHOT_BENCH_GC_FILE=/path/gc.json node --import ./gc-probe.js server.js
 */
import { writeFileSync } from 'node:fs';
import { constants, PerformanceObserver, type PerformanceEntry } from 'node:perf_hooks';

/** One pause: when it began (ms since the epoch), how long it lasted (ms), and which kind of collection it was. */
export type GcPause = readonly [startedAt: number, pauseMs: number, kind: GcKind];
export type GcKind = 'scavenge' | 'mark-compact' | 'incremental' | 'weak callbacks' | 'other';

/** Bounded: a long run keeps its last pauses only (a whole bench run makes a few hundred). */
const MAX_PAUSES = 20_000;

const KINDS = new Map<number, GcKind>([
  [constants.NODE_PERFORMANCE_GC_MINOR, 'scavenge'],
  [constants.NODE_PERFORMANCE_GC_MAJOR, 'mark-compact'],
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL, 'incremental'],
  [constants.NODE_PERFORMANCE_GC_WEAKCB, 'weak callbacks'],
]);

const file = process.env.EARSHOT_BENCH_GC_FILE;
if (file) {
  const pauses: GcPause[] = [];
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      if (pauses.length === MAX_PAUSES) pauses.shift();
      pauses.push([performance.timeOrigin + entry.startTime, entry.duration, kindOf(entry)]);
    }
  }).observe({ entryTypes: ['gc'] });
  process.on('exit', () => writeFileSync(file, JSON.stringify(pauses)));
}

function kindOf(entry: PerformanceEntry): GcKind {
  // Node puts the collection's kind in `detail` (NodeGCPerformanceDetail), which the entry's type leaves out.
  const kind = (entry as { detail?: { kind?: number } | null }).detail?.kind;
  return (kind !== undefined && KINDS.get(kind)) || 'other';
}

import type { DirectClient } from './direct.js';
import type { BenchOptions } from './options.js';
import type { CpuPlan } from './processes.js';
import type { EarshotTarget, FloorTarget, TargetName, UserKeys } from './targets.js';

/** A text the stand-in has rendered, with the length of its audio (from the direct client's PCM). */
export interface SpokenText {
  readonly text: string;
  readonly seconds: number;
}

/**
 * What an agent says: one sentence for the first-audio scenarios (each round waits for every stream to
 * end, so short clips keep rounds short), two for the crowd, whose streams must last long enough for a
 * delivery rate to mean something.
 */
export const SHORT_TEXTS = [
  'The deployment finished and every check is green.',
  'All three hundred tests pass on the new branch.',
  'I need your input on the database migration.',
  'Done: the handler is renamed and the branch is pushed.',
] as const;
export const LONG_TEXTS = [
  'The deployment finished and every health check is green. I will watch the error rate for ten minutes.',
  'All three hundred tests pass. The slowest one takes four seconds; I left a note about it in the summary.',
  'I need your input: the migration drops the legacy column. Should I keep a backup table for a week?',
  'Done. I renamed the handler, updated its eleven callers and pushed the branch for review.',
] as const;

/** One run: its processes, its texts, and where its figures go. */
/** A span of time in ms since the epoch, comparable with what the probes inside the servers record. */
export interface TimeWindow {
  readonly from: number;
  readonly to: number;
}

export interface RunContext {
  readonly options: BenchOptions;
  readonly run: number;
  readonly cpus: CpuPlan;
  readonly earshot: EarshotTarget;
  readonly floor: FloorTarget;
  readonly direct: DirectClient;
  readonly short: readonly SpokenText[];
  readonly long: readonly SpokenText[];
  readonly standin: { readonly url: string; readonly key: string; readonly pid: number };
  readonly keys: UserKeys;
  /** This run's temporary directory (data directories, server logs). */
  readonly workDir: string;
  log(line: string): void;
  /** A figure of figures.ts, for one target. */
  record(id: string, target: TargetName, value: number): void;
  /** A number worth keeping that is not a figure (references, sanity checks). */
  extra(id: string, value: number): void;
  /** Something a reader of the results should know (a failed call, a stream cut short). */
  note(text: string): void;
}

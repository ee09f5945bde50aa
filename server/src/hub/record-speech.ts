import type { HistoryItem } from '@earshot/protocol';
import type { Logger } from 'pino';
import {
  AudioNotKeptError,
  StoreCorruptError,
  StoreFullError,
  type AudioSink,
  type Store,
} from '../storage/index.js';
import { writeNowOrRetry } from './retry.js';
import type { NotKept, SpeechJob, SpeechOutcome } from './types.js';

export interface RecordDeps {
  readonly store: Store;
  readonly engineName: string;
  /** Waits between retries of a failed history write. */
  readonly storeRetryDelaysMs: readonly number[];
}

const DAY_MS = 86_400_000;
const QUOTA_USED_UP = 'your audio storage quota is used up (delete history to make room)';
const QUOTA_TOO_SMALL =
  'it is larger than the room left in your audio storage quota (delete history to make room)';

export interface SpeechAudio {
  readonly sink: AudioSink | null;
  /** Why there is no sink although the user keeps audio. */
  readonly withheld?: string;
}

/**
 * The audio sink for a speech that keeps its audio, or why there is none although the user keeps audio
 * (the quota is used up). Opening a sink never waits on storage.
 */
export function openSink(job: SpeechJob, id: string, store: Store): SpeechAudio {
  if (!job.saveAudio || job.alreadyStored) return { sink: null };
  const room = job.keep?.audioRoomBytes ?? null;
  if (room !== null && room <= 0) {
    return { sink: null, withheld: QUOTA_USED_UP };
  }
  return {
    sink: openedAtFirstChunk(() => store.openAudio(job.user, id, room === null ? {} : { maxBytes: room })),
  };
}

/**
 * A sink opened when its first chunk comes (in the SQLite store: its temporary name and bookkeeping), so behind
 * the first audio sent to the players rather than on the speech's way to ElevenLabs, where it cost ~50 µs with
 * cold caches.
 */
export function openedAtFirstChunk(open: () => AudioSink): AudioSink {
  let sink: AudioSink | undefined;
  return {
    write: (chunk) => (sink ??= open()).write(chunk),
    finish: () => (sink ??= open()).finish(),
    abort: () => sink?.abort(),
  };
}

/**
 * After the stream: records usage (settling the reservation), waits for the audio sink, then writes the
 * history record. Waits for the first attempt of each write (bounded by the store's own timeouts) so the
 * result says truthfully what was kept; failed writes keep retrying behind. Never touches the players.
 */
export async function recordSpeech(
  outcome: SpeechOutcome,
  job: SpeechJob,
  audio: SpeechAudio,
  startedAt: Date,
  deps: RecordDeps,
  log: Logger,
): Promise<SpeechOutcome> {
  const usage = job.recordUsage?.(outcome) ?? Promise.resolve();
  if (outcome.status === 'failed' || outcome.bytes === 0) {
    audio.sink?.abort();
    await usage;
    return outcome;
  }
  let bytes: number | null = null;
  let audioProblem = audio.withheld;
  if (audio.sink) {
    try {
      bytes = await audio.sink.finish();
    } catch (error) {
      audioProblem = whyNotKept(error, job);
      log.warn({ err: error }, 'speech audio not kept');
    }
  }
  const item: HistoryItem = {
    id: outcome.id,
    createdAt: new Date().toISOString(),
    text: job.text,
    voice: job.voice,
    model: job.modelId ?? null,
    source: job.source,
    engine: deps.engineName,
    characters: outcome.characters,
    credits: outcome.credits,
    durationMs: outcome.durationMs,
    audio: bytes !== null && outcome.format ? { ...outcome.format, bytes } : null,
    status: outcome.status,
    ...(job.cacheKey && outcome.status === 'completed' ? { cacheKey: job.cacheKey } : {}),
  };
  // Counted from the start of the speech: its audio object is never younger than the record (S3 lifecycle).
  const days = job.keep?.retentionDays ?? null;
  const expiresAt = days === null ? null : new Date(startedAt.getTime() + days * DAY_MS);
  const [history] = await Promise.all([
    writeNowOrRetry(
      () => deps.store.putHistory(job.user, item, { expiresAt }),
      log,
      'history',
      deps.storeRetryDelaysMs,
    ),
    usage,
  ]);
  let notKept: NotKept | undefined;
  if (!history.written) {
    notKept = {
      history: false,
      audio: false,
      reason: `the history record could not be written (${storeProblem(history.error)}); Earshot keeps trying`,
      code: 'store_unavailable',
    };
  } else if (audioProblem) {
    const quota = audioProblem === QUOTA_USED_UP || audioProblem === QUOTA_TOO_SMALL;
    notKept = {
      history: true,
      audio: false,
      reason: audioProblem,
      code: quota ? 'quota_exceeded' : 'store_unavailable',
    };
  }
  return {
    ...outcome,
    audioStored: history.written && item.audio !== null,
    ...(notKept ? { notKept } : {}),
  };
}

function whyNotKept(error: unknown, job: SpeechJob): string {
  if (error instanceof AudioNotKeptError) {
    if (error.reason === 'too_slow') return 'the store fell too far behind the audio';
    if (error.reason === 'too_large') {
      return job.keep?.audioRoomBytes != null
        ? QUOTA_TOO_SMALL
        : 'it is larger than the largest clip Earshot keeps';
    }
    return 'it was stopped';
  }
  return storeProblem(error);
}

function storeProblem(error: unknown): string {
  if (error instanceof StoreFullError) return 'the disk is full';
  if (error instanceof StoreCorruptError) return 'the database is damaged';
  return 'the store is unavailable';
}

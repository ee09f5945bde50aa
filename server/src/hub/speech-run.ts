import type { AudioFormat, HistoryItem } from '@earshot/protocol';
import type { Logger } from 'pino';
import type { VoiceEngine } from '../engines/index.js';
import { EarshotError, toEarshotError } from '../errors.js';
import type { Store } from '../store/index.js';
import { retryInBackground } from './retry.js';
import { pcmDurationMs, type SpeechJob, type SpeechOutcome } from './types.js';
import type { UserChannel } from './user-channel.js';

export interface SpeechRunDeps {
  readonly engine: VoiceEngine;
  readonly store: Store;
  readonly logger: Logger;
  readonly maxPlayerBufferBytes: number;
  /** Waits between retries of a failed history or usage write. */
  readonly storeRetryDelaysMs: readonly number[];
}

/**
 * Runs one speech: asks the engine, forwards every chunk to the user's players the moment it arrives,
 * hands a copy to the store without waiting for it, then records history and usage.
 */
export async function runSpeech(
  id: string,
  job: SpeechJob,
  channel: UserChannel,
  signal: AbortSignal,
  deps: SpeechRunDeps,
): Promise<SpeechOutcome> {
  const log = deps.logger.child({ speech: id, user: job.user });
  let format: AudioFormat | null = null;
  let credits = 0;
  let bytes = 0;
  let started = false;
  let playersReached = 0;
  const sink = job.saveAudio && !job.alreadyStored ? deps.store.openAudio(job.user, id) : null;
  const finish = (status: SpeechOutcome['status'], error?: EarshotError): SpeechOutcome => ({
    id,
    status,
    error,
    characters: job.characters ?? job.text.length,
    credits,
    bytes,
    durationMs: pcmDurationMs(bytes, format),
    format,
    playersReached,
    audioStored: false,
  });

  let outcome: SpeechOutcome;
  try {
    signal.throwIfAborted();
    job.onStart?.();
    const stream = job.audio
      ? await job.audio(signal)
      : await deps.engine.synthesize(
          {
            text: job.text,
            voiceId: job.voice.id,
            modelId: job.modelId,
            settings: job.settings,
            requester: job.user,
          },
          signal,
        );
    format = stream.format;
    credits = stream.credits;
    started = true;
    playersReached = channel.broadcast({
      type: 'speech.start',
      id,
      text: job.text,
      voice: job.voice,
      audio: stream.format,
      source: job.source,
    });
    log.info({ requestId: stream.requestId, players: playersReached }, 'speech started');
    for await (const event of stream.events) {
      if (signal.aborted) break;
      if (event.type === 'alignment') {
        const { chars, startMs, durationMs } = event;
        channel.broadcast({ type: 'speech.alignment', id, chars, startMs, durationMs });
        continue;
      }
      bytes += event.data.byteLength;
      channel.sendAudio(event.data, deps.maxPlayerBufferBytes);
      sink?.write(event.data);
      job.onProgress?.({ bytes, durationMs: pcmDurationMs(bytes, format) });
    }
    signal.throwIfAborted();
    credits = stream.credits; // multi-request streams (dialogue) know their full cost only at the end
    channel.broadcast({ type: 'speech.end', id, durationMs: pcmDurationMs(bytes, format), bytes });
    outcome = finish('completed');
  } catch (thrown) {
    const error = signal.aborted
      ? new EarshotError('cancelled', 'The speech was stopped.')
      : toEarshotError(thrown);
    if (error.code === 'cancelled') {
      if (started) channel.broadcast({ type: 'speech.stopped', id });
      outcome = finish('stopped', error);
    } else {
      log.warn({ code: error.code, err: error.cause ?? error }, 'speech failed');
      channel.broadcast({ type: 'speech.error', id, code: error.code, message: error.message });
      outcome = finish('failed', error);
    }
  }

  // Replays spend nothing and are already in history.
  if (job.alreadyStored) return outcome;
  return record(outcome, job, sink, deps, log);
}

/** Saves usage and the history record; waits for the audio file, never for the players. */
async function record(
  outcome: SpeechOutcome,
  job: SpeechJob,
  sink: ReturnType<Store['openAudio']> | null,
  deps: SpeechRunDeps,
  log: Logger,
): Promise<SpeechOutcome> {
  // Usage is recorded before the result returns (bounded, like history below), so a usage read right after a
  // speech counts it; a slow store keeps retrying behind.
  const usage =
    outcome.credits > 0 || outcome.status !== 'failed'
      ? retryInBackground(
          () => deps.store.addUsage(job.user, outcome.characters, outcome.credits),
          log,
          'usage',
          deps.storeRetryDelaysMs,
        )
      : Promise.resolve();
  if (outcome.status === 'failed' || outcome.bytes === 0) {
    sink?.abort();
    await boundedWait(usage);
    return outcome;
  }
  const storedBytes = sink ? await sink.finish() : null;
  const item: HistoryItem = {
    id: outcome.id,
    createdAt: new Date().toISOString(),
    text: job.text,
    voice: job.voice,
    model: job.modelId ?? null,
    source: job.source,
    engine: deps.engine.name,
    characters: outcome.characters,
    credits: outcome.credits,
    durationMs: outcome.durationMs,
    audio: storedBytes !== null && outcome.format ? { ...outcome.format, bytes: storedBytes } : null,
    status: outcome.status,
    ...(job.cacheKey && outcome.status === 'completed' ? { cacheKey: job.cacheKey } : {}),
  };
  // Wait briefly so the audio link in the result works at once; a slow store keeps retrying behind.
  const saved = retryInBackground(
    () => deps.store.putHistory(job.user, item),
    log,
    'history',
    deps.storeRetryDelaysMs,
  );
  await boundedWait(Promise.all([saved, usage]));
  return { ...outcome, audioStored: item.audio !== null };
}

/** Waits for store writes at most 2 s: the result should reflect them, but a slow store must not hold it. */
async function boundedWait(writes: Promise<unknown>): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([writes, new Promise((resolve) => (timer = setTimeout(resolve, 2000)))]);
  clearTimeout(timer);
}

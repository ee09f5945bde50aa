import type { AudioFormat } from '@earshot/protocol';
import type { Logger } from 'pino';
import type { VoiceEngine } from '../engines/index.js';
import { createMeter, type AudioMeter } from '../audio/formats.js';
import { EarshotError, toEarshotError } from '../errors.js';
import type { Store } from '../storage/index.js';
import { AudioFanout } from './audio-fanout.js';
import { openSink, recordSpeech } from './record-speech.js';
import type { SpeechJob, SpeechOutcome } from './types.js';
import type { SpeechTape } from './speech-tape.js';
import type { UserChannel } from './user-channel.js';

export interface SpeechRunDeps {
  readonly engine: VoiceEngine;
  readonly store: Store;
  readonly logger: Logger;
  readonly maxPlayerBufferBytes: number;
  /** Waits between retries of a failed history write. */
  readonly storeRetryDelaysMs: readonly number[];
}

/**
 * Runs one speech: asks the engine, forwards every chunk to the user's players the moment it arrives (in the
 * format each player takes, see AudioFanout),
 * hands a copy to the audio sink without waiting for it (the sink queues), then records history and usage.
 */
export async function runSpeech(
  id: string,
  job: SpeechJob,
  channel: UserChannel,
  signal: AbortSignal,
  deps: SpeechRunDeps,
  /** Where the speech is also kept for late (in-chat) players, when it is. */
  tape?: SpeechTape,
): Promise<SpeechOutcome> {
  const log = deps.logger.child({ speech: id, user: job.user });
  const startedAt = new Date();
  let format: AudioFormat | null = null;
  let credits = 0;
  let bytes = 0;
  let started = false;
  let playersReached = 0;
  let playersListening = 0;
  let meter: AudioMeter | null = null;
  let fanout: AudioFanout | null = null;
  const durationMs = () => meter?.durationMs ?? 0;
  const audio = openSink(job, id, deps.store);
  const sink = audio.sink;
  const finish = (status: SpeechOutcome['status'], error?: EarshotError): SpeechOutcome => ({
    id,
    status,
    error,
    characters: job.characters ?? job.text.length,
    credits,
    bytes,
    durationMs: durationMs(),
    format,
    playersReached,
    playersListening,
    spent: started && !job.alreadyStored,
    audioStored: false,
  });
  const startMessage = {
    type: 'speech.start',
    id,
    text: job.text,
    voice: job.voice,
    source: job.source,
  } as const;
  let ready: AudioFanout | undefined;
  let outcome: SpeechOutcome;
  try {
    signal.throwIfAborted();
    job.onStart?.();
    const answer = job.audio
      ? job.audio(signal)
      : deps.engine.synthesize(
          {
            text: job.text,
            voiceId: job.voice.id,
            modelId: job.modelId,
            settings: job.settings,
            ...(job.languageCode ? { languageCode: job.languageCode } : {}),
            requester: job.user,
          },
          signal,
        );
    const expected = job.audio ? undefined : deps.engine.streamFormat;
    if (expected) {
      // While the engine answers (ElevenLabs: 100 ms and more), the players are grouped and `speech.start`
      // serialised, so the answer finds them ready instead of doing it before the first audio. A turn later:
      // the request is written on this turn's next tick, and goes first. The await below reports a failure.
      answer.catch(() => undefined);
      await new Promise<void>((resolve) => setImmediate(resolve));
      ready = new AudioFanout(channel, id, expected, deps.maxPlayerBufferBytes, log);
      ready.prepareStart(startMessage);
    }
    const stream = await answer;
    format = stream.format;
    credits = stream.credits;
    started = true;
    meter = createMeter(stream.format);
    if (ready?.fits(stream.format)) fanout = ready;
    else {
      ready?.close();
      fanout = new AudioFanout(channel, id, stream.format, deps.maxPlayerBufferBytes, log);
    }
    ready = undefined;
    playersReached = fanout.playersReached;
    playersListening = fanout.playersListening;
    fanout.start(startMessage);
    tape?.message({ ...startMessage, audio: stream.format });
    // Said once the first audio is out (or the stream ended without any): the log line is not on its way.
    let announced = false;
    const announce = () => {
      announced = true;
      log.info(
        { requestId: stream.requestId, players: playersReached, listening: playersListening },
        'speech started',
      );
    };
    for await (const event of stream.events) {
      if (signal.aborted) break;
      if (event.type === 'alignment') {
        const { chars, startMs, durationMs } = event;
        const alignment = { type: 'speech.alignment', id, chars, startMs, durationMs } as const;
        fanout.broadcast(alignment);
        tape?.message(alignment);
        continue;
      }
      // Players first: everything else this chunk needs can wait until its frames are out.
      fanout.audio(event.data);
      bytes += event.data.byteLength;
      meter.push(event.data);
      tape?.audio(event.data);
      sink?.write(event.data);
      job.onProgress?.({ bytes, durationMs: meter.durationMs });
      if (!announced) announce();
    }
    if (!announced) announce();
    signal.throwIfAborted();
    credits = stream.credits; // multi-request streams (dialogue) know their full cost only at the end
    fanout.end(id, meter.durationMs);
    tape?.message({ type: 'speech.end', id, durationMs: meter.durationMs, bytes });
    outcome = finish('completed');
  } catch (thrown) {
    const error = signal.aborted
      ? new EarshotError('cancelled', 'The speech was stopped.')
      : toEarshotError(thrown);
    if (error.code === 'cancelled') {
      if (started) (fanout ?? channel).broadcast({ type: 'speech.stopped', id });
      tape?.message({ type: 'speech.stopped', id });
      outcome = finish('stopped', error);
    } else {
      log.warn({ code: error.code, err: error.cause ?? error }, 'speech failed');
      const failure = { type: 'speech.error', id, code: error.code, message: error.message } as const;
      (fanout ?? channel).broadcast(failure);
      tape?.message(failure);
      outcome = finish('failed', error);
    }
    fanout?.close();
    ready?.close();
  }

  // Replays spend nothing and are already in history.
  if (job.alreadyStored) return outcome;
  const recordDeps = { ...deps, engineName: deps.engine.name };
  return recordSpeech(outcome, job, audio, startedAt, recordDeps, log);
}

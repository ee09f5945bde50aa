import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it, onTestFinished } from 'vitest';
import { FliteError, FliteSynthesizer, type FliteEvent, type FliteSynthesizerOptions } from './index.js';

/** One piece of 119 spelled-out letters: a single WebAssembly run of a second or more, 2 min of audio. */
const LONG_PIECE = 'w '.repeat(119).trim();
const SLOW = { voice: 'slt', speed: 0.5 } as const;

/** A synthesizer whose pool events are recorded, with a way to wait for one (no sleeps). */
function observed(options: FliteSynthesizerOptions = {}) {
  const events: FliteEvent[] = [];
  const hooks = new Set<(event: FliteEvent) => void>();
  const synth = new FliteSynthesizer({
    ...options,
    onEvent: (event) => {
      events.push(event);
      for (const hook of hooks) hook(event);
    },
  });
  open.push(synth);
  return {
    synth,
    events,
    /** Runs `hook` on every later event. */
    on: (hook: (event: FliteEvent) => void) => {
      hooks.add(hook);
    },
    /** Resolves once `find` returns something, checked now and after every event. */
    until: <T>(find: () => T | undefined | false): Promise<T> => {
      const found = find();
      if (found) return Promise.resolve(found);
      return new Promise((resolve) => {
        const check = () => {
          const match = find();
          if (!match) return;
          hooks.delete(check);
          resolve(match);
        };
        hooks.add(check);
      });
    },
  };
}

const open: FliteSynthesizer[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((synth) => synth.close()));
});

const ofType = <T extends FliteEvent['type']>(events: FliteEvent[], type: T) =>
  events.filter((event): event is Extract<FliteEvent, { type: T }> => event.type === type);

describe('FliteSynthesizer workers', () => {
  it('fails the speech of a worker that dies mid-job with a clear error, replaces it, and keeps serving', async () => {
    const { synth, events, on } = observed();
    // A real kill: the worker thread is terminated from outside while Flite runs the job.
    on((event) => {
      if (event.type === 'job-started' && event.text === LONG_PIECE) void event.worker.terminate();
    });
    const failed = await synth.synthesize(LONG_PIECE, SLOW).catch((error: unknown) => error);
    expect(failed).toBeInstanceOf(FliteError);
    expect(failed).toMatchObject({
      code: 'crashed',
      message: 'The offline voice engine crashed while speaking; try again.',
    });
    expect(ofType(events, 'worker-exited')).toMatchObject([{ reason: 'crashed' }]);

    const after = await synth.synthesize('Still here.', { voice: 'slt' });
    expect(after.pcm.length).toBeGreaterThan(1000);
    const crashedId = ofType(events, 'worker-exited')[0]!.workerId;
    const served = ofType(events, 'job-started').at(-1)!;
    expect(served.workerId).not.toBe(crashedId);
  });

  it('stops mid-sentence on abort: the running WebAssembly is terminated, a fresh worker replaces it', async () => {
    const { synth, events, on, until } = observed({ maxWorkers: 1 });
    await synth.whenReady();
    const controller = new AbortController();
    on((event) => {
      if (event.type === 'job-started' && event.text === LONG_PIECE) controller.abort();
    });
    const pieces: string[] = [];
    const stopped = (async () => {
      for await (const piece of synth.synthesizeSentences(LONG_PIECE, SLOW, controller.signal))
        pieces.push(piece.text);
    })();
    await expect(stopped).rejects.toMatchObject({ name: 'AbortError' });
    expect(pieces).toEqual([]);

    // The aborted run never finished: its worker was terminated, and a new one started in its place.
    const started = ofType(events, 'job-started').find((event) => event.text === LONG_PIECE)!;
    const exit = await until(() =>
      ofType(events, 'worker-exited').find((event) => event.workerId === started.workerId),
    );
    expect(exit.reason).toBe('aborted');
    expect(ofType(events, 'job-finished').filter((event) => event.text === LONG_PIECE)).toEqual([
      { type: 'job-finished', requester: '', text: LONG_PIECE, outcome: 'aborted' },
    ]);
    await until(() => ofType(events, 'worker-ready').find((event) => event.workerId > started.workerId));
    const next = await synth.synthesize('Next one.', { voice: 'slt' });
    expect(next.pcm.length).toBeGreaterThan(1000);
    expect(synth.stats()).toMatchObject({ workers: 1, busy: 0, queued: 0 });
  });

  it('serves a second requester on another worker while the first one’s long speech runs', async () => {
    const { synth, events, until } = observed({ maxWorkers: 2 });
    await synth.whenReady();
    const stop = new AbortController();
    const longSpeech = (async () => {
      const text = `${LONG_PIECE}, ${LONG_PIECE}, ${LONG_PIECE}`;
      for await (const _piece of synth.synthesizeSentences(text, { ...SLOW, requester: 'a' }, stop.signal)) {
        /* drain */
      }
    })();
    longSpeech.catch(() => undefined);
    await until(() => ofType(events, 'job-started').find((event) => event.requester === 'a'));
    const short = await synth.synthesize('Done.', { voice: 'slt', requester: 'b' });
    expect(short.pcm.length).toBeGreaterThan(1000);
    stop.abort();
    await expect(longSpeech).rejects.toMatchObject({ name: 'AbortError' });

    // B started while A's first piece was still running, on the other worker; A never ran two at once.
    const order = events
      .filter((event) => event.type === 'job-started' || event.type === 'job-finished')
      .map((event) => `${event.type === 'job-started' ? 'start' : event.outcome} ${event.requester}`);
    expect(order.slice(0, 3)).toEqual(['start a', 'start b', 'done b']);
    const [startA, startB] = ofType(events, 'job-started');
    expect(startB!.workerId).not.toBe(startA!.workerId);
    let running = 0;
    for (const event of events) {
      if (event.type === 'job-started' && event.requester === 'a') running++;
      if (event.type === 'job-finished' && event.requester === 'a') running--;
      expect(running).toBeLessThanOrEqual(1);
    }
  });

  it('takes requesters in turn, one job each, whatever order they queued in', async () => {
    const { synth, events } = observed({ maxWorkers: 1 });
    await synth.whenReady();
    const jobs = ['a', 'b', 'c'].flatMap((requester) =>
      [1, 2, 3].map((n) => synth.synthesize(`${requester} ${n}.`, { voice: 'slt', requester })),
    );
    await Promise.all(jobs);
    expect(ofType(events, 'job-started').map((event) => event.text)).toEqual([
      'a 1.',
      'b 1.',
      'c 1.',
      'a 2.',
      'b 2.',
      'c 2.',
      'a 3.',
      'b 3.',
      'c 3.',
    ]);
  });

  it('retires idle extra workers and keeps one warm', async () => {
    const { synth, events, until } = observed({ maxWorkers: 3, idleWorkerMs: 0 });
    await Promise.all(
      ['a', 'b', 'c'].map((requester) => synth.synthesize('Several at once.', { voice: 'rms', requester })),
    );
    expect(new Set(ofType(events, 'job-started').map((event) => event.workerId)).size).toBeGreaterThan(1);
    await until(() => synth.stats().workers === 1 && synth.stats().busy === 0);
    expect(ofType(events, 'worker-exited').every((event) => event.reason === 'retired')).toBe(true);
    const again = await synth.synthesize('Still warm.', { voice: 'rms' });
    expect(again.pcm.length).toBeGreaterThan(1000);
  });

  it('close fails pending work and leaves no worker thread behind', async () => {
    const { synth, events, until } = observed({ maxWorkers: 3 });
    const running = ['a', 'b'].map((requester) => synth.synthesize(LONG_PIECE, { ...SLOW, requester }));
    const queued = synth.synthesize('Waiting.', { voice: 'slt', requester: 'a' });
    for (const job of [...running, queued]) job.catch(() => undefined);
    await until(() => ofType(events, 'job-started').length === 2);
    await synth.close();
    for (const job of [...running, queued]) await expect(job).rejects.toMatchObject({ code: 'closed' });
    const spawned = ofType(events, 'worker-spawned').map((event) => event.workerId);
    expect(spawned.length).toBeGreaterThanOrEqual(2);
    expect(
      ofType(events, 'worker-exited')
        .map((event) => event.workerId)
        .sort(),
    ).toEqual(spawned.sort());
    expect(synth.stats()).toEqual({ workers: 0, busy: 0, queued: 0 });
    await expect(synth.synthesize('Too late.', { voice: 'slt' })).rejects.toMatchObject({ code: 'closed' });
  });

  it('refuses to produce more audio per request than its limit', async () => {
    const { synth } = observed({ maxAudioSeconds: 3 });
    const text = 'This is the first sentence. Here is a second one. And a third. A fourth follows on.';
    const pieces: number[] = [];
    const streaming = (async () => {
      for await (const piece of synth.synthesizeSentences(text, { voice: 'slt' }))
        pieces.push(piece.pcm.length / 2 / piece.sampleRate);
    })();
    await expect(streaming).rejects.toMatchObject({
      code: 'audio_too_long',
      message: 'This speech would be longer than 3 seconds of audio; split the text into shorter pieces.',
    });
    expect(pieces.length).toBeGreaterThan(0);
    expect(pieces.reduce((sum, seconds) => sum + seconds, 0)).toBeLessThanOrEqual(3);
    await expect(synth.synthesize(LONG_PIECE, { voice: 'slt' })).rejects.toMatchObject({
      code: 'audio_too_long',
    });
  });

  it('does not keep the process alive once idle', async () => {
    const entry = fileURLToPath(new URL('./index.ts', import.meta.url));
    const script = `
      import { FliteSynthesizer } from ${JSON.stringify(entry)};
      const synth = new FliteSynthesizer({ maxWorkers: 3 });
      await Promise.all(['a', 'b', 'c'].map((requester) => synth.synthesize('Bye.', { voice: 'slt', requester })));
      console.log('spoke');
    `;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    onTestFinished(() => void (child.exitCode === null && child.kill()));
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const code = await new Promise((resolve) => child.once('exit', resolve));
    expect(output.trim()).toBe('spoke');
    expect(code).toBe(0);
  });
});

describe('FliteSynthesizer start-up failures', () => {
  it('fails the waiting job when no worker can start, without respawning in a loop, and recovers', async () => {
    let sabotage = true;
    const { synth, events, on } = observed();
    on((event) => {
      if (sabotage && event.type === 'worker-spawned') void event.worker.terminate();
    });
    await expect(synth.synthesize('Hello.', { voice: 'slt' })).rejects.toMatchObject({ code: 'unavailable' });
    const attempts = ofType(events, 'worker-spawned').length;
    expect(attempts).toBeLessThanOrEqual(3);
    sabotage = false;
    const audio = await synth.synthesize('Hello again.', { voice: 'slt' });
    expect(audio.pcm.length).toBeGreaterThan(1000);
  });
});

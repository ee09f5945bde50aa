import type { FliteEvent } from '@earshot/flite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OfflineEngine } from '../src/engines/offline.js';
import { connectMcp, textOf } from './support/mcp.js';
import { connectPlayer } from './support/player.js';
import { startTestServer, type TestServer } from './support/server.js';

/** 4,999 characters of spelled-out letters: about a minute of audio per piece at speed 0.7, ~1 s of work each. */
const FLOOD = 'w '.repeat(2500).trim();
/** One piece (a single WebAssembly run of a second or more) of spelled-out letters. */
const LONG_PIECE = 'w '.repeat(119).trim();

/** An offline engine whose worker-pool events are recorded, with a way to wait for one (no sleeps). */
function observedEngine(options: { maxAudioSeconds?: number } = {}) {
  const events: FliteEvent[] = [];
  const waiters = new Set<() => void>();
  const hooks: { onJob?: (event: Extract<FliteEvent, { type: 'job-started' }>) => void } = {};
  const engine = new OfflineEngine({
    ...options,
    onEvent: (event) => {
      events.push(event);
      if (event.type === 'job-started') hooks.onJob?.(event);
      for (const check of waiters) check();
    },
  });
  /** Resolves with the first event (past or future) matching. */
  const eventMatching = (predicate: (event: FliteEvent) => boolean) =>
    new Promise<FliteEvent>((resolve) => {
      const check = () => {
        const found = events.find(predicate);
        if (!found) return;
        waiters.delete(check);
        resolve(found);
      };
      waiters.add(check);
      check();
    });
  return { engine, events, hooks, eventMatching };
}

describe('the offline voice shared by several users', () => {
  let server: TestServer;
  const { engine, events } = observedEngine();
  beforeAll(async () => {
    server = await startTestServer({ engine });
  });
  afterAll(() => server.close());

  it("one user's flood of audio does not hold up another user's first audio", async () => {
    const [playerA, playerB] = await Promise.all([
      connectPlayer(server.url, server.keys.alice!),
      connectPlayer(server.url, server.keys.bob!),
    ]);
    const [alice, bob] = await Promise.all([
      connectMcp(server.url, server.keys.alice),
      connectMcp(server.url, server.keys.bob),
    ]);
    const flood = alice.callTool({
      name: 'speak',
      arguments: { text: FLOOD, settings: { speed: 0.7 } },
    });
    // Alice is mid-stream: her first piece arrived, the next is being generated.
    const start = await playerA.waitFor('speech.start', (m) => m.text === FLOOD);
    await playerA.waitFor('speech.alignment', (m) => m.id === start.id);

    const asked = performance.now();
    const spoken = bob.callTool({ name: 'speak', arguments: { text: 'Bob here, all tests pass.' } });
    const bobStart = await playerB.waitFor('speech.start');
    await playerB.waitFor('speech.end', (m) => m.id === bobStart.id);
    const bobFirstAudio = playerB.frames.find((frame) => frame.at > bobStart.at)!;
    expect((await spoken).isError).toBeFalsy();

    // Each of Alice's pieces takes her worker about a second. Sharing one worker, Bob waited behind her
    // running piece and the one queued after it (two pieces); with a worker of his own, at most the
    // piece that was finishing anyway completes before his first audio.
    const alicePiecesMeanwhile = playerA.messages.filter(
      (m) => m.type === 'speech.alignment' && m.id === start.id && m.at > asked && m.at < bobFirstAudio.at,
    );
    expect(alicePiecesMeanwhile.length).toBeLessThanOrEqual(1);
    // In the engine: Bob's first sentence went to a free worker the moment it was queued, ahead of
    // Alice's pieces queued before it and without waiting for her running one.
    const bobQueued = events.findIndex((e) => e.type === 'job-queued' && e.requester === 'bob');
    const bobStarted = events.findIndex((e) => e.type === 'job-started' && e.requester === 'bob');
    expect(bobQueued).toBeGreaterThan(0);
    const meanwhile = events.slice(bobQueued + 1, bobStarted);
    expect(meanwhile.filter((e) => 'requester' in e && e.requester === 'alice')).toEqual([]);

    await alice.callTool({ name: 'stop_speaking', arguments: {} });
    expect((await flood).structuredContent).toMatchObject({ status: 'stopped' });
    await Promise.all([alice.close(), bob.close(), playerA.close(), playerB.close()]);
  });
});

describe('the offline voice under faults', () => {
  let server: TestServer;
  const { engine, events, hooks, eventMatching } = observedEngine({ maxAudioSeconds: 4 });
  beforeAll(async () => {
    server = await startTestServer({ engine });
  });
  afterAll(() => server.close());

  it('a worker that dies mid-speech fails that speech clearly, and the next one plays', async () => {
    const player = await connectPlayer(server.url, server.keys.alice!);
    const client = await connectMcp(server.url, server.keys.alice);
    hooks.onJob = (event) => {
      if (event.text.startsWith('Crash')) void event.worker.terminate();
    };
    const crashed = await client.callTool({
      name: 'speak',
      arguments: { text: 'Crash in the middle of this sentence.' },
    });
    hooks.onJob = undefined;
    expect(crashed.isError).toBe(true);
    expect(textOf(crashed)).toMatch(/The offline voice engine crashed while speaking; try again/);
    const error = await player.waitFor('speech.error');
    expect(error).toMatchObject({
      code: 'engine_crashed',
      message: 'The offline voice engine crashed while speaking; try again.',
    });

    const next = await client.callTool({
      name: 'speak',
      arguments: { text: 'Back again.' },
    });
    expect(next.isError).toBeFalsy();
    await player.waitFor('speech.end', (m) => m.id === (next.structuredContent as { id: string }).id);
    await Promise.all([client.close(), player.close()]);
  });

  it('stop_speaking frees a sentence mid-way: its worker is terminated and the next speech plays on another', async () => {
    const player = await connectPlayer(server.url, server.keys.bob!);
    const client = await connectMcp(server.url, server.keys.bob);
    const stopper = await connectMcp(server.url, server.keys.bob);
    let running: Extract<FliteEvent, { type: 'job-started' }> | undefined;
    const started = new Promise<void>((resolve) => {
      hooks.onJob = (event) => {
        if (event.text !== LONG_PIECE) return;
        running = event;
        resolve();
      };
    });
    const speaking = client.callTool({
      name: 'speak',
      arguments: { text: LONG_PIECE, settings: { speed: 0.7 } },
    });
    await started;
    hooks.onJob = undefined;
    const stop = await stopper.callTool({ name: 'stop_speaking', arguments: {} });
    expect((stop.structuredContent as { stopped: number }).stopped).toBe(1);
    expect((await speaking).structuredContent).toMatchObject({ status: 'stopped' });

    // The sentence never finished: its worker was terminated mid-run; another worker speaks next.
    const exit = await eventMatching((e) => e.type === 'worker-exited' && e.workerId === running!.workerId);
    expect(exit).toMatchObject({ reason: 'aborted' });
    expect(events).not.toContainEqual(
      expect.objectContaining({ type: 'job-finished', text: LONG_PIECE, outcome: 'done' }),
    );
    const next = await client.callTool({ name: 'speak', arguments: { text: 'Next.' } });
    expect(next.isError).toBeFalsy();
    await player.waitFor('speech.end', (m) => m.id === (next.structuredContent as { id: string }).id);
    const nextJob = events.findLast((e) => e.type === 'job-started' && e.text === 'Next.');
    expect(nextJob).toMatchObject({ requester: 'bob' });
    expect(nextJob).not.toMatchObject({ workerId: running!.workerId });
    await Promise.all([client.close(), stopper.close(), player.close()]);
  });

  it('refuses to generate more audio per request than the cap, with an error that says what to do', async () => {
    const player = await connectPlayer(server.url, server.keys.alice!);
    const client = await connectMcp(server.url, server.keys.alice);
    const text =
      'This sentence is fine. So is this one. But together with this third one and a fourth, too long.';
    const result = await client.callTool({ name: 'speak', arguments: { text } });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toMatch(/longer than 4 seconds of audio; split the text/);
    const error = await player.waitFor('speech.error', (m) => m.code === 'audio_too_long');
    const audio = player.audioOf(error.id);
    expect(audio.length).toBeGreaterThan(0);
    expect(audio.length).toBeLessThanOrEqual(4 * 16_000 * 2);
    await Promise.all([client.close(), player.close()]);
  });
});

describe('EARSHOT_MAX_AUDIO_SECONDS', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ users: ['alice'], env: { EARSHOT_MAX_AUDIO_SECONDS: '2' } });
  });
  afterAll(() => server.close());

  it('sets the offline audio cap of the engine the server builds', async () => {
    const client = await connectMcp(server.url, server.keys.alice);
    const text = 'One sentence here. And another one here. And a third for good measure, which is too long.';
    const result = await client.callTool({ name: 'speak', arguments: { text } });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toMatch(/longer than 2 seconds of audio; split the text/);
    await client.close();
  });
});

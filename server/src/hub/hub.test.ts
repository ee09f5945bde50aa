import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { HistoryItem, ServerMessage } from '@earshot/protocol';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SynthesisStream, VoiceEngine } from '../engines/index.js';
import { LocalStore } from '../store/local.js';
import { Hub } from './hub.js';
import type { PlayerConnection, SpeechJob } from './types.js';

/** An engine that sends `chunks` frames of `size` bytes, paced by `gapMs`. */
function fakeEngine(chunks: number, size: number, gapMs = 0): VoiceEngine {
  return {
    name: 'offline',
    defaultModelId: 'fake',
    listVoices: async () => [],
    listModels: async () => [],
    checkReady: async () => undefined,
    close: async () => undefined,
    synthesize: async (): Promise<SynthesisStream> => ({
      format: { mimeType: 'audio/pcm', sampleRate: 16_000, channels: 1 },
      credits: 7,
      events: (async function* () {
        for (let i = 0; i < chunks; i++) {
          if (gapMs) await new Promise((resolve) => setTimeout(resolve, gapMs));
          yield { type: 'audio' as const, data: new Uint8Array(size).fill(i % 251) };
        }
      })(),
    }),
  };
}

class FakePlayer implements PlayerConnection {
  readonly id = Math.random().toString(36).slice(2);
  readonly messages: ServerMessage[] = [];
  audioBytes = 0;
  closed: number | undefined;
  constructor(public bufferedBytes = 0) {}
  sendJson(message: ServerMessage) {
    this.messages.push(message);
  }
  sendAudio(chunk: Uint8Array) {
    this.audioBytes += chunk.byteLength;
  }
  close(code: number) {
    this.closed = code;
  }
}

const job = (user: string, text = 'Hello.'): SpeechJob => ({
  user,
  text,
  voice: { id: 'v', name: 'V' },
  modelId: undefined,
  settings: {},
  source: 'api',
  saveAudio: true,
});

describe('Hub', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'earshot-hub-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));
  const logger = pino({ level: 'silent' });

  it('disconnects a player that falls too far behind, and keeps serving the others', async () => {
    const hub = new Hub({
      engine: fakeEngine(10, 1000),
      store: new LocalStore(dir),
      logger,
      maxPlayerBufferBytes: 5000,
    });
    const slow = new FakePlayer(10_000);
    const fast = new FakePlayer(0);
    hub.connectPlayer('alice', slow);
    hub.connectPlayer('alice', fast);
    const outcome = await hub.speak(job('alice')).done;
    expect(outcome.status).toBe('completed');
    expect(slow.closed).toBe(4000);
    expect(slow.audioBytes).toBe(0);
    expect(fast.audioBytes).toBe(10_000);
    expect(hub.playerCount('alice')).toBe(1);
  });

  it('plays one speech per user at a time, in order, without making other users wait', async () => {
    const hub = new Hub({ engine: fakeEngine(5, 100, 20), store: new LocalStore(dir), logger });
    const alice = new FakePlayer();
    const bob = new FakePlayer();
    hub.connectPlayer('alice', alice);
    hub.connectPlayer('bob', bob);
    const first = hub.speak(job('alice', 'one'));
    const second = hub.speak(job('alice', 'two'));
    const other = hub.speak(job('bob', 'three'));
    expect(second.queuedBehind).toBe(1);
    expect(other.queuedBehind).toBe(0);
    const bobDone = await other.done;
    // Bob finished while Alice's second speech had not started yet.
    expect(bobDone.status).toBe('completed');
    expect(alice.messages.filter((m) => m.type === 'speech.start').length).toBeLessThanOrEqual(1);
    await Promise.all([first.done, second.done]);
    const order = alice.messages
      .filter((m) => m.type === 'speech.start' || m.type === 'speech.end')
      .map((m) => `${m.type}:${'id' in m ? m.id : ''}`);
    expect(order).toEqual([
      `speech.start:${first.id}`,
      `speech.end:${first.id}`,
      `speech.start:${second.id}`,
      `speech.end:${second.id}`,
    ]);
    expect(bob.messages.some((m) => m.type === 'speech.start' && m.text !== 'three')).toBe(false);
  });

  it('keeps playing when the store fails, and retries the history record until it is saved', async () => {
    const store = new LocalStore(dir);
    let failures = 2;
    const putHistory = store.putHistory.bind(store);
    store.putHistory = async (user: string, item: HistoryItem) => {
      if (failures-- > 0) throw new Error('disk full (simulated)');
      return putHistory(user, item);
    };
    const hub = new Hub({ engine: fakeEngine(3, 100), store, logger });
    const player = new FakePlayer();
    hub.connectPlayer('carol', player);
    const outcome = await hub.speak(job('carol')).done;
    expect(outcome.status).toBe('completed');
    expect(player.audioBytes).toBe(300);
    // 200 ms + 1 s backoff: the third attempt succeeds.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(await store.getHistory('carol', outcome.id)).toMatchObject({ id: outcome.id, credits: 7 });
  });

  it('drains queued speech on shutdown and refuses new speech', async () => {
    const hub = new Hub({ engine: fakeEngine(3, 100, 30), store: new LocalStore(dir), logger });
    const running = hub.speak(job('dave', 'a'));
    const queued = hub.speak(job('dave', 'b'));
    expect(await hub.drain(5000)).toBe(true);
    expect((await running.done).status).toBe('completed');
    expect((await queued.done).status).toBe('completed');
    expect(() => hub.speak(job('dave'))).toThrow(/shutting down/);
  });
});

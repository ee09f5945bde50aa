import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { HistoryItem, ServerMessage } from '@earshot/protocol';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SynthesisStream, VoiceEngine } from '../engines/index.js';
import { SqliteStore, StoreFullError, type PutHistoryOptions } from '../storage/index.js';
import { Hub } from './hub.js';
import type { PlayerConnection, SpeechJob } from './types.js';

/** These players take PCM, the test engine's format, so the bytes they get are the engine's own. */
const PCM_ONLY = { type: 'state', accept: ['audio/pcm'] } as const;

/** A promise with its resolver, so a test can hold a speech open and let it go when it chooses. */
function gate() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}

/**
 * An engine that sends `chunks` frames of `size` bytes. A speech whose text is in `holds` sends its first
 * frame, reports that through `reached`, and sends the rest only once that gate opens.
 */
function fakeEngine(
  chunks: number,
  size: number,
  holds: Record<string, { reached: () => void; opened: Promise<void> }> = {},
): VoiceEngine {
  return {
    name: 'offline',
    defaultModelId: 'fake',
    listVoices: async () => [],
    listModels: async () => [],
    checkReady: async () => undefined,
    close: async () => undefined,
    synthesize: async (request): Promise<SynthesisStream> => ({
      format: { mimeType: 'audio/pcm', sampleRate: 16_000, channels: 1 },
      credits: 7,
      events: (async function* () {
        const hold = holds[request.text];
        for (let i = 0; i < chunks; i++) {
          yield { type: 'audio' as const, data: new Uint8Array(size).fill(i % 251) };
          if (i === 0 && hold) {
            hold.reached();
            await hold.opened;
          }
        }
      })(),
    }),
  };
}

/** A speech held after its first frame: `reached` resolves when it gets there, `open()` lets it finish. */
function held() {
  const arrival = gate();
  const release = gate();
  return {
    hold: { reached: arrival.open, opened: release.opened },
    reached: arrival.opened,
    open: release.open,
  };
}

class FakePlayer implements PlayerConnection {
  readonly id = Math.random().toString(36).slice(2);
  readonly messages: ServerMessage[] = [];
  readonly texts: Uint8Array[] = [];
  audioBytes = 0;
  closed: number | undefined;
  constructor(public bufferedBytes = 0) {}
  sendJson(message: ServerMessage) {
    this.messages.push(message);
  }
  sendText(utf8: Uint8Array) {
    this.texts.push(utf8);
    this.messages.push(JSON.parse(Buffer.from(utf8).toString('utf8')) as ServerMessage);
  }
  sendAudio(chunk: Uint8Array) {
    this.audioBytes += chunk.byteLength;
  }
  flush() {}
  close(code: number) {
    this.closed = code;
  }
  started(): string[] {
    return this.messages.flatMap((m) => (m.type === 'speech.start' ? [m.id] : []));
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
  // Each test gets its own data folder: no test reads what another wrote.
  let dir: string;
  const stores: SqliteStore[] = [];
  const openStore = () => {
    const store = SqliteStore.open({ dataDir: dir, integrityCheck: 'none', maintainOnOpen: false });
    stores.push(store);
    return store;
  };
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'earshot-hub-'));
  });
  afterEach(async () => {
    await Promise.all(stores.splice(0).map((store) => store.close()));
    await rm(dir, { recursive: true, force: true });
  });
  const logger = pino({ level: 'silent' });

  /** An engine that says it streams `expected`, answers (in `answered`) only once `answer` opens. */
  function slowToAnswer(expected: SynthesisStream['format'], answered: SynthesisStream['format']) {
    const asked = gate();
    const answer = gate();
    const engine: VoiceEngine = {
      ...fakeEngine(3, 100),
      streamFormat: expected,
      synthesize: async () => {
        asked.open();
        await answer.opened;
        return {
          format: answered,
          credits: 3,
          events: (async function* () {
            for (let i = 0; i < 3; i++) yield { type: 'audio' as const, data: new Uint8Array(100) };
          })(),
        };
      },
    };
    return { engine, asked: asked.opened, answer: answer.open };
  }
  const turns = async (n: number) => {
    for (let i = 0; i < n; i++) await new Promise<void>((resolve) => setImmediate(resolve));
  };
  const pcm16k = { mimeType: 'audio/pcm', sampleRate: 16_000, channels: 1 } as const;

  it('plays a speech to the players there when the engine answers, also those that came while it answered', async () => {
    const { engine, asked, answer } = slowToAnswer(pcm16k, pcm16k);
    const hub = new Hub({ engine, store: openStore(), logger });
    const [stays, leaves, comes] = [new FakePlayer(), new FakePlayer(), new FakePlayer()];
    hub.connectPlayer('alice', stays);
    hub.handlePlayerMessage('alice', stays, PCM_ONLY);
    const disconnect = hub.connectPlayer('alice', leaves);
    hub.handlePlayerMessage('alice', leaves, PCM_ONLY);
    const speech = hub.speak(job('alice'));
    await asked;
    await turns(3); // the players are grouped while the engine answers
    disconnect();
    hub.connectPlayer('alice', comes);
    hub.handlePlayerMessage('alice', comes, PCM_ONLY);
    answer();
    const outcome = await speech.done;
    expect(outcome).toMatchObject({ status: 'completed', playersReached: 2 });
    expect([stays.audioBytes, comes.audioBytes, leaves.audioBytes]).toEqual([300, 300, 0]);
    expect(comes.started()).toEqual([speech.id]);
    expect(leaves.started()).toEqual([]);
  });

  it('announces the format the engine answered in, when it is not the one it said', async () => {
    const { engine, asked, answer } = slowToAnswer({ ...pcm16k, sampleRate: 24_000 }, pcm16k);
    const hub = new Hub({ engine, store: openStore(), logger });
    const player = new FakePlayer();
    hub.connectPlayer('alice', player);
    hub.handlePlayerMessage('alice', player, PCM_ONLY);
    const speech = hub.speak(job('alice'));
    await asked;
    await turns(3);
    answer();
    expect((await speech.done).status).toBe('completed');
    expect(player.messages.find((m) => m.type === 'speech.start')).toMatchObject({ audio: pcm16k });
    expect(player.audioBytes).toBe(300);
  });

  it('disconnects a player that falls too far behind, and keeps serving the others', async () => {
    const hub = new Hub({
      engine: fakeEngine(10, 1000),
      store: openStore(),
      logger,
      maxPlayerBufferBytes: 5000,
    });
    const slow = new FakePlayer(10_000);
    const fast = new FakePlayer(0);
    hub.connectPlayer('alice', slow);
    hub.handlePlayerMessage('alice', slow, PCM_ONLY);
    hub.connectPlayer('alice', fast);
    hub.handlePlayerMessage('alice', fast, PCM_ONLY);
    const outcome = await hub.speak(job('alice')).done;
    expect(outcome.status).toBe('completed');
    expect(slow.closed).toBe(4000);
    expect(slow.audioBytes).toBe(0);
    expect(fast.audioBytes).toBe(10_000);
    expect(hub.playerCount('alice')).toBe(1);
  });

  it('serialises each message once for all of a user’s players: every player gets the same bytes', async () => {
    const hub = new Hub({ engine: fakeEngine(3, 100), store: openStore(), logger });
    const players = [new FakePlayer(), new FakePlayer(), new FakePlayer()];
    for (const player of players) hub.connectPlayer('alice', player);
    expect(hub.broadcast('alice', { type: 'speech.stopped', id: 'sp_1' })).toBe(3);
    await hub.speak(job('alice')).done;
    const [first, ...others] = players;
    expect(first!.texts.length).toBeGreaterThanOrEqual(3);
    for (const other of others) {
      expect(other.texts).toHaveLength(first!.texts.length);
      // The same buffer, not an equal one: one JSON.stringify per message, however many players.
      other.texts.forEach((text, i) => expect(text).toBe(first!.texts[i]));
    }
    expect(first!.messages[1]).toEqual({ type: 'speech.stopped', id: 'sp_1' });
  });

  it('plays one speech per user at a time, in order, without making other users wait', async () => {
    const one = held();
    const hub = new Hub({
      engine: fakeEngine(5, 100, { one: one.hold }),
      store: openStore(),
      logger,
    });
    const alice = new FakePlayer();
    const bob = new FakePlayer();
    hub.connectPlayer('alice', alice);
    hub.handlePlayerMessage('alice', alice, PCM_ONLY);
    hub.connectPlayer('bob', bob);
    hub.handlePlayerMessage('bob', bob, PCM_ONLY);
    const first = hub.speak(job('alice', 'one'));
    const second = hub.speak(job('alice', 'two'));
    const other = hub.speak(job('bob', 'three'));
    expect(first.queuedBehind).toBe(0);
    expect(second.queuedBehind).toBe(1);
    expect(other.queuedBehind).toBe(0);
    await one.reached;
    // Alice's first speech is held mid-stream; Bob's runs to the end without waiting for her queue.
    const bobDone = await other.done;
    expect(bobDone.status).toBe('completed');
    expect(bob.audioBytes).toBe(500);
    expect(bob.started()).toEqual([other.id]);
    // ... while Alice's second speech waits behind her first.
    expect(alice.started()).toEqual([first.id]);
    expect(alice.audioBytes).toBe(100);
    one.open();
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
    expect(alice.audioBytes).toBe(1000);
    expect(bob.messages.some((m) => m.type === 'speech.start' && m.text !== 'three')).toBe(false);
  });

  it('keeps playing when the store fails, and retries the history record until it is saved', async () => {
    const store = openStore();
    const attempts: string[] = [];
    const saved = gate();
    const putHistory = store.putHistory.bind(store);
    store.putHistory = async (user: string, item: HistoryItem, options?: PutHistoryOptions) => {
      if (attempts.push('history') <= 2) throw new StoreFullError('disk full (simulated)');
      await putHistory(user, item, options);
      saved.open();
    };
    // Delays are injected; the real backoff (200 ms, 1 s, ...) is the default and is checked in retry.test.ts.
    const hub = new Hub({ engine: fakeEngine(3, 100), store, logger, storeRetryDelaysMs: [1, 1] });
    const player = new FakePlayer();
    hub.connectPlayer('carol', player);
    hub.handlePlayerMessage('carol', player, PCM_ONLY);
    const outcome = await hub.speak(job('carol')).done;
    expect(outcome.status).toBe('completed');
    expect(player.audioBytes).toBe(300);
    await saved.opened;
    expect(attempts).toHaveLength(3);
    expect(await store.getHistory('carol', outcome.id)).toMatchObject({ id: outcome.id, credits: 7 });
  });

  it('drains queued speech on shutdown and refuses new speech', async () => {
    const a = held();
    const hub = new Hub({ engine: fakeEngine(3, 100, { a: a.hold }), store: openStore(), logger });
    const running = hub.speak(job('dave', 'a'));
    const queued = hub.speak(job('dave', 'b'));
    await a.reached;
    let drained: boolean | undefined;
    const draining = hub.drain(30_000).then((result) => (drained = result));
    expect(() => hub.speak(job('dave'))).toThrow(/shutting down/);
    // A full turn of the event loop: nothing can finish while speech "a" is held.
    await new Promise(setImmediate);
    expect(drained).toBeUndefined();
    a.open();
    expect(await draining).toBe(true);
    expect((await running.done).status).toBe('completed');
    expect((await queued.done).status).toBe('completed');
    expect(() => hub.speak(job('dave'))).toThrow(/shutting down/);
  });
});

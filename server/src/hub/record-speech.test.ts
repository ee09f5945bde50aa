import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { HistoryItem, ServerMessage } from '@earshot/protocol';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SynthesisStream, VoiceEngine } from '../engines/index.js';
import {
  SqliteStore,
  StoreFullError,
  StoreUnavailableError,
  type AudioSink,
  type PutHistoryOptions,
} from '../storage/index.js';
import { Hub } from './hub.js';
import type { PlayerConnection, SpeechJob, SpeechOutcome } from './types.js';

const DAY_MS = 86_400_000;

/** Three 100-byte frames; a speech whose text is "hold" waits after its first frame until released. */
function engine(hold?: Promise<void>): VoiceEngine {
  return {
    name: 'offline',
    defaultModelId: 'fake',
    listVoices: async () => [],
    listModels: async () => [],
    checkReady: async () => undefined,
    close: async () => undefined,
    synthesize: async (request): Promise<SynthesisStream> => ({
      format: { mimeType: 'audio/pcm', sampleRate: 16_000, channels: 1 },
      credits: 3,
      events: (async function* () {
        for (let i = 0; i < 3; i++) {
          yield { type: 'audio' as const, data: new Uint8Array(100).fill(i) };
          if (i === 0 && request.text === 'hold') await hold;
        }
      })(),
    }),
  };
}

class Player implements PlayerConnection {
  readonly id = 'p';
  readonly bufferedBytes = 0;
  audioBytes = 0;
  readonly messages: ServerMessage[] = [];
  sendJson(message: ServerMessage) {
    this.messages.push(message);
  }
  sendText(utf8: Uint8Array) {
    this.messages.push(JSON.parse(Buffer.from(utf8).toString('utf8')) as ServerMessage);
  }
  sendAudio(chunk: Uint8Array) {
    this.audioBytes += chunk.byteLength;
  }
  flush() {}
  close() {}
}

describe('recording a speech', () => {
  let dir: string;
  let store: SqliteStore;
  const logger = pino({ level: 'silent' });
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'earshot-record-'));
    store = SqliteStore.open({ dataDir: dir, integrityCheck: 'none', maintainOnOpen: false });
  });
  afterEach(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  const job = (extra: Partial<SpeechJob> = {}): SpeechJob => ({
    user: 'alice',
    text: 'Hello.',
    voice: { id: 'v', name: 'V' },
    modelId: undefined,
    settings: {},
    source: 'api',
    saveAudio: true,
    ...extra,
  });
  const hubWith = (hold?: Promise<void>) =>
    new Hub({ engine: engine(hold), store, logger, storeRetryDelaysMs: [1, 1, 1] });

  it('plays on when the disk fills mid-clip, and says the audio was not kept (no link to it)', async () => {
    const open = store.openAudio.bind(store);
    store.openAudio = (user, id, options) => {
      const sink = open(user, id, options);
      return {
        write: (chunk) => sink.write(chunk),
        abort: () => sink.abort(),
        finish: async () => {
          sink.abort();
          throw new StoreFullError('disk full (simulated)');
        },
      } satisfies AudioSink;
    };
    const hub = hubWith();
    const player = new Player();
    hub.connectPlayer('alice', player);
    // The job's audio is PCM: a player that takes PCM gets it untouched.
    hub.handlePlayerMessage('alice', player, { type: 'state', accept: ['audio/pcm'] });
    const outcome = await hub.speak(job()).done;
    expect(player.audioBytes).toBe(300);
    expect(outcome).toMatchObject({ status: 'completed', audioStored: false });
    expect(outcome.notKept).toEqual({
      history: true,
      audio: false,
      reason: 'the disk is full',
      code: 'store_unavailable',
    });
    expect((await store.getHistory('alice', outcome.id))?.audio).toBeNull();
  });

  it('says a speech was not recorded when its history write fails, and records it once the store recovers', async () => {
    const put = store.putHistory.bind(store);
    let attempts = 0;
    let saved!: () => void;
    const written = new Promise<void>((resolve) => (saved = resolve));
    store.putHistory = async (user: string, item: HistoryItem, options?: PutHistoryOptions) => {
      if (++attempts === 1) throw new StoreUnavailableError('locked (simulated)');
      await put(user, item, options);
      saved();
    };
    const outcome = await hubWith().speak(job()).done;
    expect(outcome.audioStored).toBe(false);
    expect(outcome.notKept).toMatchObject({ history: false, audio: false, code: 'store_unavailable' });
    expect(outcome.notKept?.reason).toMatch(/history record could not be written .*keeps trying/);
    await written;
    expect((await store.getHistory('alice', outcome.id))?.audio?.bytes).toBe(300);
  });

  it('opens the audio file once the first audio is out to the players, and none for a speech stopped before any', async () => {
    const open = store.openAudio.bind(store);
    const audioAtOpen: number[] = [];
    const player = new Player();
    store.openAudio = (user, id, options) => {
      audioAtOpen.push(player.audioBytes);
      return open(user, id, options);
    };
    let release!: () => void;
    const hub = hubWith(new Promise<void>((resolve) => (release = resolve)));
    hub.connectPlayer('alice', player);
    hub.handlePlayerMessage('alice', player, { type: 'state', accept: ['audio/pcm'] });
    const held = hub.speak(job({ text: 'hold' }));
    const queued = hub.speak(job({ text: 'never' }));
    queued.cancel();
    release();
    const outcome = await held.done;
    expect(outcome).toMatchObject({ status: 'completed', audioStored: true });
    expect((await queued.done).status).toBe('stopped');
    // One file, opened after the first chunk had reached the player.
    expect(audioAtOpen).toEqual([100]);
    expect((await store.getHistory('alice', outcome.id))?.audio?.bytes).toBe(300);
  });

  it('keeps no audio past the quota: none when it is used up, none of a clip larger than the room left', async () => {
    const hub = hubWith();
    const usedUp = await hub.speak(job({ keep: { retentionDays: null, audioRoomBytes: 0 } })).done;
    expect(usedUp.notKept).toMatchObject({ history: true, audio: false, code: 'quota_exceeded' });
    expect(usedUp.notKept?.reason).toMatch(/quota is used up/);
    const tooBig = await hub.speak(job({ keep: { retentionDays: null, audioRoomBytes: 250 } })).done;
    expect(tooBig.notKept).toMatchObject({ audio: false, code: 'quota_exceeded' });
    const fits = await hub.speak(job({ keep: { retentionDays: null, audioRoomBytes: 300 } })).done;
    expect(fits).toMatchObject({ audioStored: true });
    expect(fits.notKept).toBeUndefined();
    expect((await store.getAudioUsage('alice')).bytes).toBe(300);
  });

  it('expires the record retentionDays after the speech started', async () => {
    const before = Date.now();
    const outcome = await hubWith().speak(job({ keep: { retentionDays: 2, audioRoomBytes: null } })).done;
    const after = Date.now();
    const expiresAt = Date.parse((await store.getHistory('alice', outcome.id))!.expiresAt!);
    expect(expiresAt).toBeGreaterThanOrEqual(before + 2 * DAY_MS);
    expect(expiresAt).toBeLessThanOrEqual(after + 2 * DAY_MS);
  });

  it('records usage exactly once per speech: spent when it ran, given back when stopped in the queue', async () => {
    let release!: () => void;
    const hub = hubWith(new Promise<void>((resolve) => (release = resolve)));
    const recorded: { text: string; outcome: SpeechOutcome }[] = [];
    const tracked = (text: string) =>
      job({ text, recordUsage: async (outcome) => void recorded.push({ text, outcome }) });
    const running = hub.speak(tracked('hold'));
    const queued = hub.speak(tracked('queued'));
    queued.cancel();
    expect((await queued.done).status).toBe('stopped');
    release();
    await running.done;
    expect(recorded.map(({ text, outcome }) => [text, outcome.status, outcome.spent])).toEqual([
      ['queued', 'stopped', false],
      ['hold', 'completed', true],
    ]);
  });
});

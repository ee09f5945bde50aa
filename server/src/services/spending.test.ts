import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_SETTINGS, type UserSettings } from '@earshot/protocol';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SynthesisStream, VoiceEngine } from '../engines/index.js';
import { EarshotError } from '../errors.js';
import { Hub, type SpeechJob } from '../hub/index.js';
import { SqliteStore, StoreFullError } from '../storage/index.js';
import { SettingsService } from './settings.js';
import { SpendingGate } from './spending.js';

describe('spending: the daily budget booked in the store before anything is spent', () => {
  let dir: string;
  let store: SqliteStore;
  let synthesized: number;
  const logger = pino({ level: 'silent' });
  const engine: VoiceEngine = {
    name: 'offline',
    defaultModelId: 'fake',
    listVoices: async () => [],
    listModels: async () => [],
    checkReady: async () => undefined,
    close: async () => undefined,
    synthesize: async (): Promise<SynthesisStream> => {
      synthesized++;
      return {
        format: { mimeType: 'audio/pcm', sampleRate: 16_000, channels: 1 },
        credits: 10,
        events: (async function* () {
          yield { type: 'audio' as const, data: new Uint8Array(10) };
        })(),
      };
    },
  };
  const job = (text: string): Omit<SpeechJob, 'keep' | 'recordUsage'> => ({
    user: 'alice',
    text,
    voice: { id: 'v', name: 'V' },
    modelId: undefined,
    settings: {},
    source: 'api',
    saveAudio: true,
  });
  const gate = (hub = new Hub({ engine, store, logger })) => {
    const limits = { dailyCharLimit: 20, audioRetentionDays: null, audioQuotaMb: null };
    return new SpendingGate(hub, store, new SettingsService(store, hub, limits), logger, [1]);
  };
  const settings = (extra: Partial<UserSettings> = {}): UserSettings => ({ ...DEFAULT_SETTINGS, ...extra });

  beforeEach(async () => {
    synthesized = 0;
    dir = await mkdtemp(join(tmpdir(), 'earshot-spending-'));
    store = SqliteStore.open({ dataDir: dir, integrityCheck: 'none', maintainOnOpen: false });
  });
  afterEach(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('refuses with store_unavailable, before the engine is asked, when the store cannot record', async () => {
    store.reserveBudget = () => Promise.reject(new StoreFullError('disk full (simulated)'));
    const refused = await gate()
      .queue('alice', settings(), 5, job('Hello'))
      .catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(EarshotError);
    expect(refused).toMatchObject({ code: 'store_unavailable', httpStatus: 503 });
    expect((refused as Error).message).toMatch(/^Refused before anything was spent: .*disk .*full/);
    expect(synthesized).toBe(0);
  });

  it('counts what was spent, refuses past the limit, and the user may lower the limit but not lift it', async () => {
    const spending = gate();
    await (
      await spending.queue('alice', settings(), 12, job('twelve chars'))
    ).done;
    await expect(spending.queue('alice', settings(), 9, job('nine char'))).rejects.toMatchObject({
      code: 'quota_exceeded',
      message: expect.stringMatching(/budget of 20 characters: 8 left, this text has 9/),
    });
    // A saved limit above the server's counts as the server's.
    await expect(
      spending.queue('alice', settings({ dailyCharLimit: 1000 }), 9, job('nine char')),
    ).rejects.toMatchObject({ code: 'quota_exceeded' });
    await expect(
      spending.queue('alice', settings({ dailyCharLimit: 15 }), 4, job('four')),
    ).rejects.toMatchObject({ message: expect.stringMatching(/budget of 15 characters: 3 left/) });
    expect(synthesized).toBe(1);
    const [today] = await store.getUsage('alice', 1);
    expect(today).toMatchObject({ characters: 12, credits: 10, reserved: 0 });
  });

  it('gives the booking back when the speech cannot even be queued', async () => {
    const hub = new Hub({ engine, store, logger });
    const spending = gate(hub);
    await hub.drain(0);
    await expect(spending.queue('alice', settings(), 12, job('twelve chars'))).rejects.toMatchObject({
      code: 'shutting_down',
    });
    await expect.poll(async () => (await store.getUsage('alice', 1))[0]!.reserved).toBe(0);
  });
});

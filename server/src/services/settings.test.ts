import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { VoiceEngine } from '../engines/index.js';
import { Hub } from '../hub/index.js';
import { SqliteStore } from '../storage/index.js';
import { SETTINGS_CACHE_TTL_MS, SettingsService } from './settings.js';

/**
 * The settings cache: two services over two connections to one SQLite file stand for two processes
 * sharing a store. A clock the test moves decides when the cache expires.
 */
describe('settings cache', () => {
  let dir: string;
  let stores: SqliteStore[];
  let now: number;
  const logger = pino({ level: 'silent' });
  const engine = { name: 'offline' } as VoiceEngine;
  const limits = { dailyCharLimit: null, audioRetentionDays: null, audioQuotaMb: null };

  const service = (): { settings: SettingsService; store: SqliteStore } => {
    const store = SqliteStore.open({ dataDir: dir, integrityCheck: 'none', maintainOnOpen: false });
    stores.push(store);
    const hub = new Hub({ engine, store, logger });
    return { settings: new SettingsService(store, hub, limits, { now: () => now }), store };
  };

  beforeEach(async () => {
    now = 0;
    stores = [];
    dir = await mkdtemp(join(tmpdir(), 'earshot-settings-'));
  });
  afterEach(async () => {
    for (const store of stores) await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('a change made here is read back at once, without waiting for the cache to expire', async () => {
    const { settings } = service();
    expect((await settings.get('alice')).defaultVoice).toBeNull();
    await settings.update('alice', { defaultVoice: 'rachel' });
    expect((await settings.get('alice')).defaultVoice).toBe('rachel');
    await settings.update('alice', { voiceSettings: { speed: 1.1 } });
    const read = await settings.get('alice');
    expect(read.defaultVoice).toBe('rachel');
    expect(read.voiceSettings.speed).toBe(1.1);
  });

  it('a change another process made is read once the cache expires, and not before', async () => {
    const here = service();
    const there = service();
    expect((await here.settings.get('alice')).autoPlay).toBe(true);
    await there.settings.update('alice', { autoPlay: false });
    // Within the cache's lifetime the store is not asked again (this is what the cache saves)…
    now += SETTINGS_CACHE_TTL_MS - 1;
    expect((await here.settings.get('alice')).autoPlay).toBe(true);
    // …and after it, the other process's change is seen.
    now += 1;
    expect((await here.settings.get('alice')).autoPlay).toBe(false);
  });

  it('users are cached apart, and the shared object cannot be changed by a caller', async () => {
    const { settings } = service();
    await settings.update('alice', { defaultVoice: 'rachel' });
    expect((await settings.get('bob')).defaultVoice).toBeNull();
    const shared = await settings.get('alice');
    expect(() => Object.assign(shared, { defaultVoice: 'mallory' })).toThrow(TypeError);
    expect(() => Object.assign(shared.voiceSettings, { speed: 0.7 })).toThrow(TypeError);
    expect((await settings.get('alice')).defaultVoice).toBe('rachel');
  });

  it('a failed read is not kept: the next call asks the store again', async () => {
    const { settings, store } = service();
    const real = store.getSettings.bind(store);
    let fail = true;
    store.getSettings = (user) => (fail ? Promise.reject(new Error('disk on fire')) : real(user));
    await expect(settings.get('alice')).rejects.toThrow('disk on fire');
    fail = false;
    expect((await settings.get('alice')).autoPlay).toBe(true);
  });
});

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { VoiceEngine } from '../engines/index.js';
import { Hub } from '../hub/index.js';
import { SqliteStore, type Store } from '../storage/index.js';
import {
  CHANGE_MARK_SHARED_MS,
  SETTINGS_CACHE_MAX_AGE_MS,
  SETTINGS_CACHE_TTL_MS,
  SettingsService,
} from './settings.js';

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

  /** `hideChangeMark` hands the service the store without `changeMark`, as a backend that has none (DynamoDB). */
  const service = (
    options: { hideChangeMark?: boolean } = {},
  ): { settings: SettingsService; store: SqliteStore; reads: () => number } => {
    const store = SqliteStore.open({ dataDir: dir, integrityCheck: 'none', maintainOnOpen: false });
    stores.push(store);
    let reads = 0;
    const read = store.getSettings.bind(store);
    store.getSettings = (user) => {
      reads++;
      return read(user);
    };
    const seen: Store = options.hideChangeMark
      ? new Proxy(store, {
          get: (target, key) =>
            key === 'changeMark' ? undefined : (Reflect.get(target, key, target) as unknown),
        })
      : store;
    const hub = new Hub({ engine, store, logger });
    return {
      settings: new SettingsService(seen, hub, limits, { now: () => now }),
      store,
      reads: () => reads,
    };
  };

  /** Counts the store's readings of its change mark from now on. */
  const countMarkReadings = (store: SqliteStore): (() => number) => {
    let asked = 0;
    const mark = store.changeMark.bind(store);
    store.changeMark = () => {
      asked++;
      return mark();
    };
    return () => asked;
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

  it('past the TTL, with nothing committed elsewhere, the cached settings are used without a read', async () => {
    const { settings, store, reads } = service();
    const first = await settings.get('alice');
    expect(reads()).toBe(1);
    // This connection's own commits (usage, here) do not move the mark.
    await store.addUsage('alice', { characters: 10, credits: 10 });
    now += 30 * SETTINGS_CACHE_TTL_MS;
    expect(await settings.get('alice')).toBe(first);
    now += 30 * SETTINGS_CACHE_TTL_MS;
    expect(await settings.get('alice')).toBe(first);
    expect(reads()).toBe(1);
  });

  it('past the TTL, a commit by another connection is read at the next call that asks the mark, and only then', async () => {
    const here = service();
    const there = service();
    expect((await here.settings.get('alice')).autoPlay).toBe(true);
    now += 60 * SETTINGS_CACHE_TTL_MS;
    expect((await here.settings.get('alice')).autoPlay).toBe(true);
    expect(here.reads()).toBe(1);
    // The other connection writes to the store directly, as `earshot` in another process would.
    await there.store.patchSettings('alice', { autoPlay: false });
    // Confirmed by the mark a moment ago: trusted for a TTL without asking, as a store without a mark would be.
    expect((await here.settings.get('alice')).autoPlay).toBe(true);
    now += SETTINGS_CACHE_TTL_MS;
    expect((await here.settings.get('alice')).autoPlay).toBe(false);
    expect(here.reads()).toBe(2);
    now += 60 * SETTINGS_CACHE_TTL_MS;
    expect((await here.settings.get('alice')).autoPlay).toBe(false);
    expect(here.reads()).toBe(2);
  });

  it('the mark is asked at most once per TTL: a burst of calls past the TTL asks it once', async () => {
    const { settings, store } = service();
    await settings.get('alice');
    const asked = countMarkReadings(store);
    now += 5 * SETTINGS_CACHE_TTL_MS;
    for (let call = 0; call < 100; call++) await settings.get('alice');
    expect(asked()).toBe(1);
    now += SETTINGS_CACHE_TTL_MS;
    await settings.get('alice');
    expect(asked()).toBe(2);
  });

  it('one reading of the mark serves every user checked within CHANGE_MARK_SHARED_MS', async () => {
    const { settings, store } = service();
    for (const user of ['alice', 'bob', 'carol']) await settings.get(user);
    const asked = countMarkReadings(store);
    now += 5 * SETTINGS_CACHE_TTL_MS;
    await settings.get('alice');
    now += CHANGE_MARK_SHARED_MS - 1;
    await settings.get('bob');
    expect(asked()).toBe(1);
    now += 1;
    await settings.get('carol');
    expect(asked()).toBe(2);
  });

  it('a commit elsewhere after a shared reading of the mark is seen once that reading is too old to share', async () => {
    const here = service();
    const there = service();
    for (const user of ['alice', 'bob']) expect((await here.settings.get(user)).autoPlay).toBe(true);
    now += 5 * SETTINGS_CACHE_TTL_MS;
    // Alice's check reads the mark; Bob's, a moment later, shares that reading and misses the commit between.
    await here.settings.get('alice');
    await there.store.patchSettings('bob', { autoPlay: false });
    now += CHANGE_MARK_SHARED_MS - 1;
    expect((await here.settings.get('bob')).autoPlay).toBe(true);
    // Confirmed then, Bob's settings are trusted for a TTL; the next check reads the mark afresh and sees it.
    now += SETTINGS_CACHE_TTL_MS;
    expect((await here.settings.get('bob')).autoPlay).toBe(false);
    expect(here.reads()).toBe(3);
  });

  it('a commit elsewhere racing the read makes a later read, never a stale hit', async () => {
    const here = service();
    const there = service();
    const read = here.store.getSettings.bind(here.store);
    here.store.getSettings = (user) => {
      const settings = read(user);
      // Right after this read (node:sqlite is synchronous: the read is done), before anything else here.
      void there.store.patchSettings(user, { autoPlay: false });
      here.store.getSettings = read;
      return settings;
    };
    expect((await here.settings.get('alice')).autoPlay).toBe(true);
    now += 60 * SETTINGS_CACHE_TTL_MS;
    expect((await here.settings.get('alice')).autoPlay).toBe(false);
  });

  it('a commit elsewhere landing right after a write here is not hidden', async () => {
    const here = service();
    const there = service();
    const patch = here.store.patchSettings.bind(here.store);
    here.store.patchSettings = (user, change) => {
      const written = patch(user, change);
      void there.store.patchSettings(user, { autoPlay: false });
      return written;
    };
    expect((await here.settings.update('alice', { defaultVoice: 'rachel' })).autoPlay).toBe(true);
    now += 60 * SETTINGS_CACHE_TTL_MS;
    const read = await here.settings.get('alice');
    expect(read.defaultVoice).toBe('rachel');
    expect(read.autoPlay).toBe(false);
  });

  it('however still the mark, settings are read again after SETTINGS_CACHE_MAX_AGE_MS', async () => {
    const { settings, store, reads } = service();
    expect((await settings.get('alice')).autoPlay).toBe(true);
    // A write on this very connection that bypasses the service: the mark cannot tell; the ceiling bounds it.
    await store.patchSettings('alice', { autoPlay: false });
    now += SETTINGS_CACHE_MAX_AGE_MS - 1;
    expect((await settings.get('alice')).autoPlay).toBe(true);
    now += 1;
    expect((await settings.get('alice')).autoPlay).toBe(false);
    expect(reads()).toBe(2);
  });

  it('a store without a change mark keeps the TTL: read again after it, changed or not', async () => {
    const here = service({ hideChangeMark: true });
    const there = service();
    expect((await here.settings.get('alice')).autoPlay).toBe(true);
    now += SETTINGS_CACHE_TTL_MS - 1;
    await here.settings.get('alice');
    expect(here.reads()).toBe(1);
    now += 1;
    await here.settings.get('alice');
    expect(here.reads()).toBe(2);
    await there.store.patchSettings('alice', { autoPlay: false });
    now += SETTINGS_CACHE_TTL_MS - 1;
    expect((await here.settings.get('alice')).autoPlay).toBe(true);
    now += 1;
    expect((await here.settings.get('alice')).autoPlay).toBe(false);
    expect(here.reads()).toBe(3);
  });

  it('concurrent misses share one read', async () => {
    const { settings, reads } = service();
    const [a, b] = await Promise.all([settings.get('alice'), settings.get('alice')]);
    expect(a).toBe(b);
    expect(reads()).toBe(1);
  });

  it('a read begun before a write here does not fill the cache after it', async () => {
    const { settings, store } = service();
    // A slow read (a store a network away): it answers only after the write below is done.
    const read = store.getSettings.bind(store);
    let answer = () => {};
    const gate = new Promise<void>((resolve) => (answer = resolve));
    store.getSettings = async (user) => {
      const settings = await read(user);
      await gate;
      return settings;
    };
    const before = settings.get('alice');
    await settings.update('alice', { defaultVoice: 'rachel' });
    answer();
    expect((await before).defaultVoice).toBeNull();
    expect((await settings.get('alice')).defaultVoice).toBe('rachel');
  });

  it('a store that cannot give its mark: the call fails with the read’s error, as a rejection', async () => {
    const { settings, store } = service();
    await settings.get('alice');
    now += 60 * SETTINGS_CACHE_TTL_MS;
    await store.close();
    await expect(settings.get('alice')).rejects.toThrow(/read settings/);
  });
});

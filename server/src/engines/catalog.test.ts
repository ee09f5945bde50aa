import { describe, expect, it } from 'vitest';
import { CATALOG_FRESH_MS, CATALOG_RETRY_MS, StaleWhileRefreshing, VoiceCatalog } from './catalog.js';
import type { VoiceEngine } from './types.js';

/** A list load the test settles by hand, and how many were asked for. */
function loads<T>() {
  const pending: { resolve: (value: T) => void; reject: (error: Error) => void }[] = [];
  return {
    pending,
    load: () => new Promise<T>((resolve, reject) => pending.push({ resolve, reject })),
    /** Lets the promise callbacks of a settled load run. */
    settle: async (index: number, outcome: T | Error) => {
      const load = pending[index]!;
      if (outcome instanceof Error) load.reject(outcome);
      else load.resolve(outcome);
      await new Promise((resolve) => setImmediate(resolve));
    },
  };
}

/** Whether the promise has settled, without waiting for it. */
async function settled(promise: Promise<unknown>): Promise<boolean> {
  let done = false;
  promise.then(
    () => (done = true),
    () => (done = true),
  );
  await new Promise((resolve) => setImmediate(resolve));
  return done;
}

/** A list cache whose first load gave `initial`, its clock then moved past CATALOG_FRESH_MS (stale). */
async function staleCache(initial: string[]) {
  let now = 0;
  const list = loads<string[]>();
  const cache = new StaleWhileRefreshing(list.load, () => now);
  const first = cache.get();
  await list.settle(0, initial);
  await first;
  now += CATALOG_FRESH_MS;
  return { cache, list, advance: (ms: number) => void (now += ms) };
}

describe('StaleWhileRefreshing (the voice and model lists)', () => {
  it('waits for the first load once, however many ask, then serves it without asking again while fresh', async () => {
    let now = 1_000;
    const list = loads<string[]>();
    const cache = new StaleWhileRefreshing(list.load, () => now);
    const first = [cache.get(), cache.get(), cache.get()];
    expect(list.pending).toHaveLength(1);
    expect(await settled(first[0]!)).toBe(false);
    await list.settle(0, ['a']);
    expect(await Promise.all(first)).toEqual([['a'], ['a'], ['a']]);
    now += CATALOG_FRESH_MS - 1;
    expect(await cache.get()).toEqual(['a']);
    expect(list.pending).toHaveLength(1);
  });

  it('serves a stale list at once and refreshes it in the background, one refresh for many calls', async () => {
    const { cache, list } = await staleCache(['old']);
    // The refresh has not answered: the calls still get the old list, now, and ask for one refresh only.
    const during = [cache.get(), cache.get()];
    expect(await settled(Promise.all(during))).toBe(true);
    expect(await Promise.all(during)).toEqual([['old'], ['old']]);
    expect(list.pending).toHaveLength(2);
    await list.settle(1, ['new']);
    expect(await cache.get()).toEqual(['new']);
    expect(list.pending).toHaveLength(2);
  });

  it('keeps serving the list in hand when a refresh fails, and tries again only after CATALOG_RETRY_MS', async () => {
    const { cache, list, advance } = await staleCache(['kept']);
    expect(await cache.get()).toEqual(['kept']);
    await list.settle(1, new Error('ElevenLabs is down'));
    advance(CATALOG_RETRY_MS - 1);
    expect(await cache.get()).toEqual(['kept']);
    expect(list.pending).toHaveLength(2);
    advance(1);
    expect(await cache.get()).toEqual(['kept']);
    expect(list.pending).toHaveLength(3);
    await list.settle(2, ['back']);
    expect(await cache.get()).toEqual(['back']);
  });

  it('does not keep a failed first load: the call gets the error and the next call loads again', async () => {
    const list = loads<string[]>();
    const cache = new StaleWhileRefreshing(list.load);
    const first = cache.get();
    await list.settle(0, new Error('bad key'));
    await expect(first).rejects.toThrow('bad key');
    const second = cache.get();
    expect(list.pending).toHaveLength(2);
    await list.settle(1, ['a']);
    expect(await second).toEqual(['a']);
  });

  it('after invalidate, waits for a new list; a refresh begun before it does not bring the old one back', async () => {
    const { cache, list } = await staleCache(['before']);
    await cache.get(); // begins a background refresh (load 1)
    cache.invalidate();
    const after = cache.get();
    expect(list.pending).toHaveLength(3);
    expect(await settled(after)).toBe(false);
    await list.settle(2, ['with the new voice']);
    expect(await after).toEqual(['with the new voice']);
    // The refresh begun before the change answers last, with the list from before it: not kept.
    await list.settle(1, ['stale refresh']);
    expect(await cache.get()).toEqual(['with the new voice']);
  });
});

/** Voice lists loaded by hand (see loads). */
const voiceLoads = () =>
  loads<{ id: string; name: string; category: string; labels: Record<string, string> }[]>();

/** An engine whose voices come from `listVoices`, with no models. */
function engineListing(listVoices: () => Promise<unknown>, name: string): VoiceEngine {
  return {
    name,
    defaultModelId: 'm',
    listVoices,
    listModels: () => Promise.resolve([]),
  } as unknown as VoiceEngine;
}

describe('VoiceCatalog', () => {
  it('resolves a voice from a stale list without waiting for the engine, and sees a new voice after invalidateVoices', async () => {
    let now = 0;
    const voices = voiceLoads();
    const engine = engineListing(voices.load, 'offline');
    const catalog = new VoiceCatalog(engine, { now: () => now });
    const first = catalog.resolveVoice('Rachel');
    await voices.settle(0, [{ id: 'v1', name: 'Rachel', category: 'premade', labels: {} }]);
    expect((await first).id).toBe('v1');
    now += CATALOG_FRESH_MS;
    const stale = catalog.resolveVoice('rachel');
    expect(await settled(stale)).toBe(true);
    expect((await stale).id).toBe('v1');
    await voices.settle(1, [{ id: 'v1', name: 'Rachel', category: 'premade', labels: {} }]);
    catalog.invalidateVoices();
    const added = catalog.resolveVoice('Nova');
    await voices.settle(2, [
      { id: 'v1', name: 'Rachel', category: 'premade', labels: {} },
      { id: 'v2', name: 'Nova', category: 'cloned', labels: {} },
    ]);
    expect((await added).id).toBe('v2');
  });

  it('logs a list that could not load at start, and a refresh that failed, and keeps neither failure', async () => {
    let now = 0;
    const warnings: { list: string; message: string }[] = [];
    const log = {
      warn: (fields: { list: string }, message: string) => void warnings.push({ list: fields.list, message }),
    };
    const voices = voiceLoads();
    const engine = engineListing(voices.load, 'elevenlabs');
    const catalog = new VoiceCatalog(engine, { now: () => now, log: log as never });
    const warming = catalog.warm();
    await voices.settle(0, new Error('ElevenLabs refused the key (HTTP 401)'));
    await warming;
    expect(warnings).toEqual([
      { list: 'voice', message: 'could not load the voice list at start; the first speech will try again' },
    ]);
    // Not kept: the first call loads again.
    const first = catalog.resolveVoice('Rachel');
    await voices.settle(1, [{ id: 'v1', name: 'Rachel', category: 'premade', labels: {} }]);
    expect((await first).id).toBe('v1');
    now += CATALOG_FRESH_MS;
    expect((await catalog.resolveVoice('Rachel')).id).toBe('v1');
    await voices.settle(2, new Error('ElevenLabs is down'));
    expect(warnings.at(-1)).toEqual({
      list: 'voice',
      message:
        'could not refresh the voice list from the voice engine; the one loaded earlier is used meanwhile',
    });
    expect((await catalog.resolveVoice('Rachel')).id).toBe('v1');
  });
});

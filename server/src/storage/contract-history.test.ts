import { DEFAULT_SETTINGS, type HistoryItem } from '@earshot/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BACKENDS,
  startBackend,
  uniqueUser,
  type BackendFixture,
} from '../../test/support/storage-backends.js';
import { at, historyItem } from '../../test/support/storage-items.js';
import type { HistoryQuery, Store } from './contract.js';
import { StoreInputError } from './errors.js';

describe.each(BACKENDS)('store contract: settings and history (%s)', (kind) => {
  let backend: BackendFixture;
  let store: Store;
  let other: Store;

  beforeAll(async () => {
    backend = await startBackend(kind);
    store = await backend.open();
    other = await backend.open();
  });
  afterAll(() => backend?.close());

  const ids = async (user: string, query: HistoryQuery, on: Store = store) =>
    (await on.listHistory(user, query)).items.map((item) => item.id);

  it('returns defaults, applies patches (null clears, voice settings merge key by key)', async () => {
    const user = uniqueUser();
    expect(await store.getSettings(user)).toEqual(DEFAULT_SETTINGS);
    const first = await store.patchSettings(user, {
      defaultVoice: 'robert',
      voiceSettings: { stability: 0.3 },
    });
    expect(first).toEqual({ ...DEFAULT_SETTINGS, defaultVoice: 'robert', voiceSettings: { stability: 0.3 } });
    const second = await store.patchSettings(user, {
      defaultVoice: null,
      autoPlay: false,
      voiceSettings: { speed: 1.1 },
    });
    expect(second).toEqual({
      ...DEFAULT_SETTINGS,
      autoPlay: false,
      voiceSettings: { stability: 0.3, speed: 1.1 },
    });
    expect(await other.getSettings(user)).toEqual(second);
  });

  it('has a change mark moved by another instance’s commit, not its own (SQLite; DynamoDB has none)', async () => {
    if (kind === 'dynamodb') {
      // Nothing cheap tells a task that another one wrote: callers keep expiring what they cached.
      expect('changeMark' in store).toBe(false);
      return;
    }
    const user = uniqueUser();
    const mark = store.changeMark!();
    await store.patchSettings(user, { autoPlay: false });
    expect(store.changeMark!()).toBe(mark);
    await other.patchSettings(user, { autoPlay: true });
    expect(store.changeMark!()).not.toBe(mark);
  });

  it('keeps both instances’ concurrent settings patches', async () => {
    const user = uniqueUser();
    const rounds = 15;
    await Promise.all(
      Array.from({ length: rounds }, (_, i) => [
        store.patchSettings(user, { defaultVoice: `voice-${i}`, voiceSettings: { stability: i / 100 } }),
        other.patchSettings(user, { defaultModel: `model-${i}`, voiceSettings: { speed: 1 + i / 100 } }),
      ]).flat(),
    );
    const settings = await store.getSettings(user);
    expect(settings.defaultVoice).toMatch(/^voice-\d+$/);
    expect(settings.defaultModel).toMatch(/^model-\d+$/);
    expect(Object.keys(settings.voiceSettings).sort()).toEqual(['speed', 'stability']);
  });

  it('puts, gets, replaces and deletes history items', async () => {
    const user = uniqueUser();
    const item = historyItem('h1', at(1), 'Build finished');
    await store.putHistory(user, item);
    expect(await other.getHistory(user, 'h1')).toEqual(item);
    await other.putHistory(user, { ...item, text: 'Build finished twice' });
    expect((await store.getHistory(user, 'h1'))?.text).toBe('Build finished twice');
    expect(await ids(user, { limit: 10 })).toEqual(['h1']);
    // A replacement with another createdAt moves in the list (and in search) instead of appearing twice.
    await store.putHistory(user, historyItem('h0', at(2), 'Later one'));
    await store.putHistory(user, { ...item, createdAt: at(3), text: 'Build finished last' });
    expect(await ids(user, { limit: 10 })).toEqual(['h1', 'h0']);
    expect(await ids(user, { limit: 10, search: 'finished' })).toEqual(['h1']);
    expect(await ids(user, { limit: 10, search: 'twice' })).toEqual([]);
    await store.deleteHistory(user, 'h0');
    expect(await store.deleteHistory(user, 'h1')).toBe(true);
    expect(await other.deleteHistory(user, 'h1')).toBe(false);
    expect(await store.getHistory(user, 'h1')).toBeNull();
    expect(await store.getHistory(user, 'never')).toBeNull();
  });

  it('lists newest first and pages with an opaque cursor, without skipping or repeating equal times', async () => {
    const user = uniqueUser();
    const created = new Map<string, string>();
    for (let i = 0; i < 25; i++) {
      // Pairs share a createdAt: paging must neither skip nor repeat them.
      const id = `item-${String(i).padStart(2, '0')}`;
      created.set(id, at(Math.floor(i / 2)));
      await store.putHistory(user, historyItem(id, created.get(id)!, `text ${i}`));
    }
    const seen: string[] = [];
    let cursor: string | undefined;
    const sizes: number[] = [];
    do {
      const page = await other.listHistory(user, { limit: 10, cursor });
      sizes.push(page.items.length);
      seen.push(...page.items.map((item) => item.id));
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    expect(sizes).toEqual([10, 10, 5]);
    expect(new Set(seen).size).toBe(25);
    const times = seen.map((id) => created.get(id)!);
    expect(times).toEqual([...times].sort().reverse());
    const whole = await store.listHistory(user, { limit: 25 });
    expect(whole.items.map((item) => item.id)).toEqual(seen);
    expect(whole.nextCursor).toBeNull();
    // `before` is exclusive: items created at minute 3 are left out.
    expect((await ids(user, { limit: 3, before: at(3) })).sort()).toEqual(['item-03', 'item-04', 'item-05']);
    expect(await ids(user, { limit: 10, before: at(0) })).toEqual([]);
  });

  it('searches text and voice names case-insensitively, as substrings, and pages search results', async () => {
    const user = uniqueUser();
    await store.putHistory(user, historyItem('s1', at(1), 'First build FINISHED'));
    await store.putHistory(user, historyItem('s2', at(2), 'Tests passed', 'Alice'));
    await store.putHistory(user, historyItem('s3', at(3), 'Deploy finished; "quoted" text'));
    await store.putHistory(user, historyItem('s4', at(4), 'Nothing here'));
    expect(await ids(user, { limit: 10, search: 'finished' })).toEqual(['s3', 's1']);
    expect(await ids(user, { limit: 10, search: 'INISH' })).toEqual(['s3', 's1']);
    expect(await ids(user, { limit: 10, search: 'alice' })).toEqual(['s2']);
    expect(await ids(user, { limit: 10, search: 'ic' })).toEqual(['s2']);
    expect(await ids(user, { limit: 10, search: '"quoted"' })).toEqual(['s3']);
    expect(await ids(user, { limit: 10, search: 'build finished' })).toEqual(['s1']);
    expect(await ids(user, { limit: 10, search: 'absent words' })).toEqual([]);
    const first = await other.listHistory(user, { limit: 1, search: 'finished' });
    expect(first.items.map((item) => item.id)).toEqual(['s3']);
    const second = await other.listHistory(user, { limit: 1, search: 'finished', cursor: first.nextCursor! });
    expect(second.items.map((item) => item.id)).toEqual(['s1']);
  });

  it('hides expired items and reports when an item expires', async () => {
    const user = uniqueUser();
    const expiresAt = new Date('2030-01-02T00:00:00.000Z');
    await store.putHistory(user, historyItem('keep', at(1), 'kept forever'));
    await store.putHistory(user, historyItem('short', at(2), 'kept a while'), { expiresAt });
    const before = new Date('2030-01-01T00:00:00.000Z');
    const after = new Date('2030-01-03T00:00:00.000Z');
    expect((await other.getHistory(user, 'short', before))?.expiresAt).toBe(expiresAt.toISOString());
    expect((await other.getHistory(user, 'keep', before))?.expiresAt).toBeUndefined();
    expect(await ids(user, { limit: 10, now: before })).toEqual(['short', 'keep']);
    expect(await other.getHistory(user, 'short', after)).toBeNull();
    expect(await ids(user, { limit: 10, now: after })).toEqual(['keep']);
    expect(await ids(user, { limit: 10, now: after, search: 'kept' })).toEqual(['keep']);
  });

  it('finds the newest live, completed item with audio by its cache key, for either instance', async () => {
    const user = uniqueUser();
    const withKey = (id: string, minute: number, extra: Partial<HistoryItem> = {}): HistoryItem => ({
      ...historyItem(id, at(minute), 'same words', 'Robert', 100),
      cacheKey: 'k1',
      ...extra,
    });
    expect(await store.findCached(user, 'k1')).toBeNull();
    await store.putHistory(user, withKey('old', 1));
    await store.putHistory(user, withKey('stopped', 2, { status: 'stopped' }));
    await store.putHistory(user, withKey('silent', 3, { audio: null }));
    expect((await other.findCached(user, 'k1'))?.id).toBe('old');
    await other.putHistory(user, withKey('new', 4), { expiresAt: new Date('2030-01-02T00:00:00.000Z') });
    expect((await store.findCached(user, 'k1', new Date('2030-01-01T00:00:00.000Z')))?.id).toBe('new');
    // Expired, deleted or replaced by an item that cannot answer: never a stale answer.
    const later = new Date('2030-01-03T00:00:00.000Z');
    expect((await store.findCached(user, 'k1', later))?.id ?? null).not.toBe('new');
    await store.deleteHistory(user, 'new');
    expect((await other.findCached(user, 'k1', new Date('2030-01-01T00:00:00.000Z')))?.id ?? null).not.toBe(
      'new',
    );
    await store.putHistory(user, withKey('old', 1, { audio: null }));
    expect(await other.findCached(user, 'k1')).toBeNull();
    expect(await other.findCached(uniqueUser(), 'k1')).toBeNull();
  });

  it('lists every item written by two instances at once', async () => {
    const user = uniqueUser();
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        (i % 2 ? other : store).putHistory(user, historyItem(`c${i}`, at(i), `concurrent ${i}`)),
      ),
    );
    for (const on of [store, other]) expect((await ids(user, { limit: 50 }, on)).length).toBe(20);
  });

  it('refuses bad names, sizes and cursors; a cursor never reaches another user', async () => {
    const user = uniqueUser();
    const stranger = uniqueUser();
    await expect(store.getSettings('../x')).rejects.toBeInstanceOf(StoreInputError);
    await expect(store.putHistory(user, historyItem('../x', at(1), 'x'))).rejects.toBeInstanceOf(
      StoreInputError,
    );
    expect(await store.getHistory(user, '../settings')).toBeNull();
    expect(await store.deleteHistory(user, '..')).toBe(false);
    await expect(store.listHistory(user, { limit: 0 })).rejects.toBeInstanceOf(StoreInputError);
    await expect(store.listHistory(user, { limit: 10, cursor: 'not a cursor' })).rejects.toBeInstanceOf(
      StoreInputError,
    );
    await expect(store.listHistory(user, { limit: 10, before: 'yesterday' })).rejects.toBeInstanceOf(
      StoreInputError,
    );
    for (let i = 0; i < 3; i++) await store.putHistory(stranger, historyItem(`x${i}`, at(i), 'private'));
    await store.putHistory(user, historyItem('mine', at(1), 'mine'));
    const cursor = (await store.listHistory(stranger, { limit: 1 })).nextCursor!;
    const reused = store.listHistory(user, { limit: 10, cursor });
    // Either refused, or a position in this user's own list: never the stranger's items.
    const page = await reused.catch((error: unknown) => error);
    if (page instanceof Error) expect(page).toBeInstanceOf(StoreInputError);
    else
      expect((page as { items: { text: string }[] }).items.every((item) => item.text !== 'private')).toBe(
        true,
      );
  });
});

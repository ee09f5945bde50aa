import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BACKENDS,
  startBackend,
  uniqueUser,
  type BackendFixture,
} from '../../test/support/storage-backends.js';
import { at, historyItem, pattern, readAll } from '../../test/support/storage-items.js';
import type { Store } from './contract.js';
import { AudioMissingError, AudioNotKeptError } from './errors.js';

describe.each(BACKENDS)('store contract: audio (%s)', (kind) => {
  let backend: BackendFixture;
  let store: Store;
  let other: Store;

  beforeAll(async () => {
    backend = await startBackend(kind);
    store = await backend.open();
    other = await backend.open();
  });
  afterAll(() => backend?.close());

  const objectsOf = async (user: string) =>
    (await backend.audioObjects()).filter((name) => name.startsWith(`${user}/`));
  const missing = (reason: AudioMissingError['reason']) =>
    expect.objectContaining({ name: 'AudioMissingError', reason }) as unknown;

  it('streams chunks into a sink and reads back exactly those bytes, from another instance too', async () => {
    const user = uniqueUser();
    const clip = pattern(300_000);
    const sink = store.openAudio(user, 'clip');
    // Chunks are handed over as views of one buffer (SynthesisEvent: never changed after), as a stream's are.
    for (let offset = 0; offset < clip.length; offset += 10_000)
      sink.write(clip.subarray(offset, offset + 10_000));
    expect(await sink.finish()).toBe(clip.length);
    await store.putHistory(user, historyItem('clip', at(1), 'with audio', 'Robert', clip.length));
    const audio = await other.readAudio(user, 'clip');
    expect(audio.bytes).toBe(clip.length);
    expect((await readAll(audio.stream)).equals(clip)).toBe(true);
  });

  it('shows nothing under the final name until the sink finishes', async () => {
    const user = uniqueUser();
    const sink = store.openAudio(user, 'pending');
    sink.write(pattern(1000));
    // A history item that (wrongly) points at the clip early finds nothing yet: a clear error, no partial read.
    await store.putHistory(user, historyItem('pending', at(1), 'early', 'Robert', 1000));
    await expect(other.readAudio(user, 'pending')).rejects.toEqual(missing('missing'));
    expect((await objectsOf(user)).every((name) => !name.endsWith('pending.audio'))).toBe(true);
    sink.write(pattern(500));
    expect(await sink.finish()).toBe(1500);
    const audio = await other.readAudio(user, 'pending');
    expect(audio.bytes).toBe(1000);
    expect((await readAll(audio.stream)).length).toBe(1000);
  });

  it('abort leaves nothing behind, and finish then says why', async () => {
    const user = uniqueUser();
    const sink = store.openAudio(user, 'aborted');
    sink.write(pattern(2000));
    sink.abort();
    sink.write(pattern(10));
    await expect(sink.finish()).rejects.toEqual(
      expect.objectContaining({ name: 'AudioNotKeptError', reason: 'aborted' }),
    );
    expect(await objectsOf(user)).toEqual([]);
  });

  it('drops a clip past its size cap without keeping any of it', async () => {
    const user = uniqueUser();
    const sink = store.openAudio(user, 'big', { maxBytes: 4096 });
    sink.write(pattern(4000));
    sink.write(pattern(200));
    const error = await sink.finish().catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(AudioNotKeptError);
    expect((error as AudioNotKeptError).reason).toBe('too_large');
    expect(await objectsOf(user)).toEqual([]);
  });

  it('gives a clear error for no item, no audio, missing and short audio — never a hang', async () => {
    const user = uniqueUser();
    await expect(store.readAudio(user, 'nothing')).rejects.toEqual(missing('no_item'));
    await store.putHistory(user, historyItem('silent', at(1), 'no audio kept'));
    await expect(store.readAudio(user, 'silent')).rejects.toEqual(missing('no_audio'));
    await store.putHistory(user, historyItem('lost', at(2), 'audio lost', 'Robert', 100));
    await expect(store.readAudio(user, 'lost')).rejects.toEqual(missing('missing'));
    const sink = store.openAudio(user, 'short');
    sink.write(pattern(50));
    await sink.finish();
    await store.putHistory(user, historyItem('short', at(3), 'audio cut', 'Robert', 100));
    await expect(store.readAudio(user, 'short')).rejects.toEqual(missing('short'));
  });

  it('deletes the audio with its history item', async () => {
    const user = uniqueUser();
    const sink = store.openAudio(user, 'gone');
    sink.write(pattern(64));
    await sink.finish();
    await store.putHistory(user, historyItem('gone', at(1), 'to delete', 'Robert', 64));
    expect(await objectsOf(user)).toEqual([`${user}/gone.audio`]);
    expect(await other.deleteHistory(user, 'gone')).toBe(true);
    expect(await objectsOf(user)).toEqual([]);
    await expect(store.readAudio(user, 'gone')).rejects.toBeInstanceOf(AudioMissingError);
  });

  it('accounts audio bytes per user for a quota, until the items expire', async () => {
    const user = uniqueUser();
    const now = new Date('2030-05-01T12:00:00.000Z');
    await store.putHistory(user, historyItem('a', at(1), 'a', 'Robert', 1000));
    await other.putHistory(user, historyItem('b', at(2), 'b', 'Robert', 500), {
      expiresAt: new Date('2030-05-03T00:00:00.000Z'),
    });
    await store.putHistory(user, historyItem('c', at(3), 'c'));
    expect(await store.getAudioUsage(user, now)).toEqual({ bytes: 1500 });
    expect(await other.getAudioUsage(user, new Date('2030-05-04T00:00:00.000Z'))).toEqual({ bytes: 1000 });
    // Replacing an item counts its new size once; deleting takes it off.
    await store.putHistory(user, historyItem('a', at(1), 'a', 'Robert', 1200));
    expect(await store.getAudioUsage(user, now)).toEqual({ bytes: 1700 });
    await store.deleteHistory(user, 'b');
    expect(await store.getAudioUsage(user, now)).toEqual({ bytes: 1200 });
    expect(await store.getAudioUsage(uniqueUser(), now)).toEqual({ bytes: 0 });
  });

  it('is ready when it can write', async () => {
    await expect(store.checkReady()).resolves.toBeUndefined();
    await expect(other.checkReady()).resolves.toBeUndefined();
  });
});

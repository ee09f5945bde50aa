// History and its audio through REST and MCP on the SQLite store: cursor paging, exact audio lengths, and a
// clear 404/410 (never a hang) when an audio file is gone or cut short.
import { existsSync } from 'node:fs';
import { truncate, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { HistoryItem, HistoryPage, SpeakResult } from '@earshot/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectMcp } from './support/mcp.js';
import { startTestServer, type TestServer } from './support/server.js';

describe('history on the SQLite store', () => {
  let server: TestServer;
  const spoken: SpeakResult[] = [];
  const api = (path: string, init: RequestInit = {}) =>
    fetch(`${server.url}/api/v1${path}`, {
      ...init,
      headers: {
        authorization: `Bearer ${server.keys.alice}`,
        ...(init.body ? { 'content-type': 'application/json' } : {}),
      },
    });
  const audioFile = (id: string) => join(server.dataDir, 'audio', 'alice', `${id}.audio`);

  beforeAll(async () => {
    server = await startTestServer({ users: ['alice'] });
    for (let i = 0; i < 5; i++) {
      const response = await api('/speak', {
        method: 'POST',
        body: JSON.stringify({ text: `History item number ${i}.`, play: false }),
      });
      spoken.push((await response.json()) as SpeakResult);
    }
  });
  afterAll(() => server?.close());

  it('pages /history with nextCursor, newest first, without gaps or repeats; before still works', async () => {
    const seen: string[] = [];
    const sizes: number[] = [];
    let cursor: string | null = null;
    do {
      const query: string = cursor ? `&cursor=${encodeURIComponent(cursor)}` : '';
      const page = (await (await api(`/history?limit=2${query}`)).json()) as HistoryPage;
      sizes.push(page.items.length);
      seen.push(...page.items.map((item) => item.id));
      cursor = page.nextCursor;
    } while (cursor);
    expect(sizes).toEqual([2, 2, 1]);
    expect(seen).toEqual(spoken.map((result) => result.id).reverse());

    const all = (await (await api('/history?limit=50')).json()) as HistoryPage;
    expect(all.nextCursor).toBeNull();
    const third = all.items[2]!;
    const older = (await (await api(`/history?limit=50&before=${third.createdAt}`)).json()) as HistoryPage;
    expect(older.items.map((item) => item.id)).toEqual(
      all.items.filter((item) => item.createdAt < third.createdAt).map((item) => item.id),
    );
    const bad = await api('/history?cursor=not-a-cursor');
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error: { code: 'invalid_input' } });
  });

  it('list_history takes a cursor and returns nextCursor', async () => {
    const client = await connectMcp(server.url, server.keys.alice);
    const call = async (args: Record<string, unknown>) =>
      (await client.callTool({ name: 'list_history', arguments: args })).structuredContent as {
        items: { id: string }[];
        nextCursor: string | null;
      };
    const first = await call({ limit: 3 });
    expect(first.items).toHaveLength(3);
    expect(first.nextCursor).toEqual(expect.any(String));
    const rest = await call({ limit: 3, cursor: first.nextCursor });
    expect([...first.items, ...rest.items].map((item) => item.id)).toEqual(
      spoken.map((result) => result.id).reverse(),
    );
    expect(rest.nextCursor).toBeNull();
    await client.close();
  });

  it('serves audio with the exact stored length as content-length', async () => {
    const { id } = spoken[0]!;
    const item = (await (await api(`/history/${id}`)).json()) as HistoryItem;
    // As stored (Ogg Opus): exactly the stored bytes.
    const response = await api(`/history/${id}/audio`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('audio/ogg; codecs=opus');
    expect(response.headers.get('content-length')).toBe(String(item.audio!.bytes));
    expect((await response.arrayBuffer()).byteLength).toBe(item.audio!.bytes);
    // As WAV: decoded while it streams, its length announced up front from the Ogg page positions.
    const wav = await api(`/history/${id}/audio?format=wav`);
    expect(wav.headers.get('content-type')).toBe('audio/wav');
    const body = Buffer.from(await wav.arrayBuffer());
    expect(wav.headers.get('content-length')).toBe(String(body.length));
    expect(body.readUInt32LE(40)).toBe(body.length - 44);
    // Flite's 16 kHz: 32 bytes a millisecond, to the nearest millisecond of the recorded duration.
    expect(Math.abs(body.length - 44 - item.durationMs * 32)).toBeLessThanOrEqual(32);
  });

  it('answers 410 for audio shorter than recorded and 404 for audio that is gone — at once, never a hang', async () => {
    const [, short, gone] = spoken;
    await truncate(audioFile(short!.id), 100);
    const cut = await api(`/history/${short!.id}/audio`);
    expect(cut.status).toBe(410);
    expect(await cut.json()).toMatchObject({ error: { code: 'audio_incomplete' } });

    await unlink(audioFile(gone!.id));
    const missing = await api(`/history/${gone!.id}/audio`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ error: { code: 'not_found' } });
    // The item stays listed (its text is still history) and can be deleted.
    expect((await api(`/history/${gone!.id}`)).status).toBe(200);
    expect((await api(`/history/${gone!.id}`, { method: 'DELETE' })).status).toBe(204);

    // MCP reads of the same items: not found, and incomplete.
    const client = await connectMcp(server.url, server.keys.alice);
    const read = (id: string) =>
      client.readResource({ uri: `earshot://history/${id}` }).then(
        () => 'read',
        (error: Error) => error.message,
      );
    expect(await read(short!.id)).toMatch(/incomplete/);
    await client.close();
  });

  it('deletes an item together with its audio file', async () => {
    const { id } = spoken[3]!;
    expect(existsSync(audioFile(id))).toBe(true);
    expect((await api(`/history/${id}`, { method: 'DELETE' })).status).toBe(204);
    expect(existsSync(audioFile(id))).toBe(false);
    expect((await api(`/history/${id}/audio`)).status).toBe(404);
  });
});

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { HeadObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { DEFAULT_SETTINGS, type HistoryItem } from '@earshot/protocol';
import S3rver from 's3rver';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer } from '../../test/support/server.js';
import { S3Store } from './s3.js';

const BUCKET = 'earshot-test';

interface RunningS3 {
  server: S3rver;
  port: number;
}

async function startS3(directory: string, port = 0): Promise<RunningS3> {
  const server = new S3rver({
    address: '127.0.0.1',
    port,
    silent: true,
    directory,
    configureBuckets: [{ name: BUCKET, configs: [] }],
  });
  const info = await server.run();
  return { server, port: info.port };
}

function clientFor(port: number): S3Client {
  return new S3Client({
    endpoint: `http://127.0.0.1:${port}`,
    forcePathStyle: true,
    region: 'us-east-1',
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    maxAttempts: 1,
  });
}

function item(id: string, createdAt: string, text: string, voice = 'Robert'): HistoryItem {
  return {
    id,
    createdAt,
    text,
    voice: { id: voice.toLowerCase(), name: voice },
    model: null,
    source: 'api',
    engine: 'offline',
    characters: text.length,
    credits: 0,
    durationMs: 100,
    audio: { mimeType: 'audio/pcm', sampleRate: 16_000, channels: 1, bytes: 4 },
    status: 'completed',
  };
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks);
}

async function keysUnder(client: S3Client, prefix: string): Promise<string[]> {
  const page = await client.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: prefix }));
  return (page.Contents ?? []).map((object) => object.Key!).sort();
}

describe('S3Store against s3rver (real S3 protocol on loopback)', () => {
  let directory: string;
  let s3: RunningS3;
  let client: S3Client;
  let store: S3Store;

  beforeAll(async () => {
    directory = await mkdtemp(join(tmpdir(), 'earshot-s3-'));
    s3 = await startS3(directory);
    client = clientFor(s3.port);
    store = new S3Store({ bucket: BUCKET, prefix: 'data', client, retryDelayMs: 20 });
  });
  afterAll(async () => {
    await store?.close();
    client?.destroy();
    await s3?.server.close();
    await rm(directory, { recursive: true, force: true });
  });

  it('returns default settings, then the saved ones', async () => {
    expect(await store.getSettings('alice')).toEqual(DEFAULT_SETTINGS);
    const saved = { ...DEFAULT_SETTINGS, defaultVoice: 'robert', autoPlay: false };
    await store.putSettings('alice', saved);
    expect(await store.getSettings('alice')).toEqual(saved);
    expect(await keysUnder(client, 'data/users/alice/')).toContain('data/users/alice/settings.json');
    // A fresh store (another process) reads it from S3.
    const other = new S3Store({ bucket: BUCKET, prefix: 'data', client });
    expect(await other.getSettings('alice')).toEqual(saved);
    expect(await other.getSettings('bob')).toEqual(DEFAULT_SETTINGS);
  });

  it('puts, lists (newest first, search, before, limit), gets and deletes history with its audio', async () => {
    const user = 'hist-user';
    await store.putHistory(user, item('a1', '2026-01-01T10:00:00.000Z', 'First build finished'));
    await store.putHistory(user, item('a2', '2026-01-02T10:00:00.000Z', 'Tests passed', 'Alice'));
    await store.putHistory(user, item('a3', '2026-01-03T10:00:00.000Z', 'Deploy finished'));
    const sink = store.openAudio(user, 'a2');
    sink.write(new Uint8Array([1, 2, 3, 4]));
    expect(await sink.finish()).toBe(4);

    const ids = async (query: { limit: number; before?: string; search?: string }) =>
      (await store.listHistory(user, query)).map((entry) => entry.id);
    expect(await ids({ limit: 10 })).toEqual(['a3', 'a2', 'a1']);
    expect(await ids({ limit: 2 })).toEqual(['a3', 'a2']);
    expect(await ids({ limit: 10, search: 'FINISHED' })).toEqual(['a3', 'a1']);
    expect(await ids({ limit: 10, search: 'alice' })).toEqual(['a2']);
    expect(await ids({ limit: 10, before: '2026-01-03T00:00:00.000Z' })).toEqual(['a2', 'a1']);

    // Another process lists the same items from S3.
    const fresh = new S3Store({ bucket: BUCKET, prefix: 'data', client });
    expect((await fresh.listHistory(user, { limit: 10 })).map((entry) => entry.id)).toEqual([
      'a3',
      'a2',
      'a1',
    ]);
    expect(await fresh.getHistory(user, 'a2')).toEqual(
      item('a2', '2026-01-02T10:00:00.000Z', 'Tests passed', 'Alice'),
    );
    expect(await fresh.getHistory(user, 'nope')).toBeNull();

    // Audio lives under `<prefix>/audio/`, the prefix the bucket's lifecycle rule expires.
    expect(await keysUnder(client, `data/audio/${user}/`)).toEqual([`data/audio/${user}/a2.pcm`]);
    expect(await store.deleteHistory(user, 'a2')).toBe(true);
    expect(await store.deleteHistory(user, 'a2')).toBe(false);
    expect(await store.getHistory(user, 'a2')).toBeNull();
    expect(await store.readAudio(user, 'a2')).toBeNull();
    expect(await keysUnder(client, `data/audio/${user}/`)).toEqual([]);
    expect(await keysUnder(client, `data/users/${user}/`)).toEqual([
      `data/users/${user}/history/a1.json`,
      `data/users/${user}/history/a3.json`,
    ]);
  });

  it('stores a clip written in chunks and reads back identical bytes', async () => {
    const clip = Buffer.alloc(300_000);
    for (let i = 0; i < clip.length; i++) clip[i] = (i * 31) % 256;
    const sink = store.openAudio('alice', 'clip1');
    const reused = new Uint8Array(10_000);
    for (let offset = 0; offset < clip.length; offset += reused.length) {
      // The caller reuses its buffer: the sink must have copied each chunk.
      reused.set(clip.subarray(offset, offset + reused.length));
      sink.write(reused);
      reused.fill(0);
    }
    expect(await sink.finish()).toBe(clip.length);
    const stream = await store.readAudio('alice', 'clip1');
    expect(stream).not.toBeNull();
    expect((await readAll(stream!)).equals(clip)).toBe(true);
    expect(await store.readAudio('alice', 'missing')).toBeNull();
  });

  it('does not keep a clip over 16 MiB, and abort leaves nothing', async () => {
    const user = 'big-clips';
    const big = store.openAudio(user, 'big');
    const chunk = new Uint8Array(1024 * 1024);
    for (let i = 0; i < 17; i++) big.write(chunk);
    expect(await big.finish()).toBeNull();
    expect(await store.readAudio(user, 'big')).toBeNull();

    const aborted = store.openAudio(user, 'aborted');
    aborted.write(new Uint8Array([1, 2, 3]));
    aborted.abort();
    expect(await aborted.finish()).toBeNull();
    expect(await store.readAudio(user, 'aborted')).toBeNull();
    expect(await keysUnder(client, `data/audio/${user}/`)).toEqual([]);
  });

  it('accumulates usage per day', async () => {
    const today = new Date();
    const yesterday = new Date(Date.now() - 86_400_000);
    await Promise.all([
      store.addUsage('carol', 10, 1, today),
      store.addUsage('carol', 5, 2, today),
      store.addUsage('carol', 7, 3, yesterday),
    ]);
    const usage = await store.getUsage('carol', 3);
    expect(usage).toHaveLength(3);
    expect(usage[2]).toEqual({ date: today.toISOString().slice(0, 10), characters: 15, credits: 3 });
    expect(usage[1]).toEqual({ date: yesterday.toISOString().slice(0, 10), characters: 7, credits: 3 });
    expect(usage[0]!.characters).toBe(0);
    expect((await store.getUsage('nobody', 1))[0]!.characters).toBe(0);
  });

  it('refuses invalid users and ids (no traversal)', async () => {
    await expect(store.getSettings('../bob')).rejects.toThrow(/invalid user/);
    await expect(store.getSettings('')).rejects.toThrow(/invalid user/);
    await expect(store.putHistory('alice', item('../x', '2026-01-01T00:00:00.000Z', 'x'))).rejects.toThrow(
      /invalid history id/,
    );
    expect(() => store.openAudio('alice', 'a/b')).toThrow(/invalid history id/);
    expect(() => store.openAudio('a/b', 'ok')).toThrow(/invalid user/);
    expect(await store.getHistory('alice', '../settings')).toBeNull();
    expect(await store.readAudio('alice', '../settings')).toBeNull();
    expect(await store.deleteHistory('alice', '..')).toBe(false);
    await expect(store.addUsage('alice/../bob', 1, 1)).rejects.toThrow(/invalid user/);
  });

  it('checkReady passes for the bucket and fails for a missing one; other S3 errors propagate', async () => {
    await expect(store.checkReady()).resolves.toBeUndefined();
    const missing = new S3Store({ bucket: 'no-such-bucket', prefix: '', client });
    await expect(missing.checkReady()).rejects.toThrow();
    // A missing bucket is a fault, not an empty store.
    await expect(missing.getSettings('alice')).rejects.toThrow();
    await expect(missing.listHistory('alice', { limit: 5 })).rejects.toThrow();
  });

  it('fails writes while S3 is down, and works again once it is back', async () => {
    await s3.server.close();
    try {
      await expect(store.putSettings('dave', DEFAULT_SETTINGS)).rejects.toThrow();
      await expect(store.addUsage('dave', 1, 1)).rejects.toThrow();
      await expect(store.listHistory('dave', { limit: 5 })).rejects.toThrow();
      const sink = store.openAudio('dave', 'down');
      sink.write(new Uint8Array([9, 9]));
      expect(await sink.finish()).toBeNull();
    } finally {
      s3 = await startS3(directory, s3.port);
    }
    await store.putSettings('dave', { ...DEFAULT_SETTINGS, autoPlay: false });
    expect((await store.getSettings('dave')).autoPlay).toBe(false);
    // The failed index load was not cached.
    expect(await store.listHistory('dave', { limit: 5 })).toEqual([]);
    await store.addUsage('dave', 4, 0);
    expect((await store.getUsage('dave', 1))[0]!.characters).toBe(4);
  });

  it('retries a clip upload with back-off until S3 is back', async () => {
    // Attempts are watched on the client: the test restarts S3 once the first one has failed, and holds any
    // further attempt until S3 is back, so nothing depends on how long a restart takes.
    const watched = clientFor(s3.port);
    const failures: unknown[] = [];
    let firstFailure!: () => void;
    const failed = new Promise<void>((resolve) => (firstFailure = resolve));
    let s3Back!: () => void;
    const back = new Promise<void>((resolve) => (s3Back = resolve));
    watched.middlewareStack.add(
      (next) => async (args) => {
        if (failures.length > 0) await back;
        try {
          return await next(args);
        } catch (error) {
          failures.push(error);
          firstFailure();
          throw error;
        }
      },
      { step: 'initialize', name: 'watchAttempts' },
    );
    const patient = new S3Store({ bucket: BUCKET, prefix: 'data', client: watched, retryDelayMs: 1 });
    await s3.server.close();
    let finished: Promise<number | null>;
    try {
      const sink = patient.openAudio('erin', 'retried');
      sink.write(new Uint8Array([7, 8, 9]));
      finished = sink.finish();
      await failed;
    } finally {
      s3 = await startS3(directory, s3.port);
      s3Back();
    }
    expect(await finished).toBe(3);
    expect(failures).toHaveLength(1);
    expect([...(await readAll((await patient.readAudio('erin', 'retried'))!))]).toEqual([7, 8, 9]);
    await patient.close();
    watched.destroy();
  });

  it('serves the real Earshot: speak, then download the stored audio as WAV from S3', async () => {
    const names = ['AWS_ENDPOINT_URL_S3', 'AWS_ENDPOINT_URL', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY'];
    const saved = Object.fromEntries(
      [...names, 'AWS_REGION', 'AWS_SESSION_TOKEN', 'AWS_PROFILE'].map((name) => [name, process.env[name]]),
    );
    delete process.env.AWS_ENDPOINT_URL;
    delete process.env.AWS_SESSION_TOKEN;
    delete process.env.AWS_PROFILE;
    process.env.AWS_ENDPOINT_URL_S3 = `http://127.0.0.1:${s3.port}`;
    process.env.AWS_ACCESS_KEY_ID = 'S3RVER';
    process.env.AWS_SECRET_ACCESS_KEY = 'S3RVER';
    process.env.AWS_REGION = 'us-east-1';
    const server = await startTestServer({
      users: ['alice'],
      env: { EARSHOT_STORE: `s3://${BUCKET}/server` },
    });
    try {
      const headers = { authorization: `Bearer ${server.keys.alice}`, 'content-type': 'application/json' };
      const speak = await fetch(`${server.url}/api/v1/speak`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ text: 'Stored in a bucket.', wait: 'generated' }),
      });
      expect(speak.status).toBe(200);
      const result = (await speak.json()) as { id: string; audioUrl: string | null };
      expect(result.audioUrl).toContain(result.id);

      // History is written in the background right after the speech: wait for it.
      let download: Response | undefined;
      for (let i = 0; i < 50; i++) {
        download = await fetch(`${server.url}/api/v1/history/${result.id}/audio`, { headers });
        if (download.status !== 404) break;
        await download.arrayBuffer();
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(download!.status).toBe(200);
      expect(download!.headers.get('content-type')).toBe('audio/wav');
      const wav = Buffer.from(await download!.arrayBuffer());
      expect(wav.subarray(0, 4).toString('ascii')).toBe('RIFF');
      expect(wav.subarray(8, 12).toString('ascii')).toBe('WAVE');
      expect(wav.length).toBeGreaterThan(44 + 1000);
      expect(wav.readUInt32LE(40)).toBe(wav.length - 44);

      // And the objects really are in the bucket, audio under `<prefix>/audio/` (the lifecycle rule's prefix).
      const head = await client.send(
        new HeadObjectCommand({ Bucket: BUCKET, Key: `server/audio/alice/${result.id}.pcm` }),
      );
      expect(head.ContentLength).toBe(wav.length - 44);
      expect(await keysUnder(client, 'server/users/alice/history/')).toEqual([
        `server/users/alice/history/${result.id}.json`,
      ]);
    } finally {
      await server.close();
      for (const [name, value] of Object.entries(saved)) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    }
  });
});

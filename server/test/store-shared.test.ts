// Two real `earshot serve` processes on one store — one SQLite data folder, or one DynamoDB table (dynalite)
// with audio in S3 (s3rver), both started here on loopback: what one writes the other sees at once, usage
// from both adds up, and the daily budget holds across them.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './support/cli.js';
import { EarshotProcess, KEYS, KEYS_ENV, startAll, type User } from './support/earshot-process.js';
import { BUCKET, startAwsStandIns, TEST_CREDENTIALS, type AwsStandIns } from './support/storage-backends.js';

const KINDS = ['sqlite', 'dynamodb'] as const;

describe.each(KINDS)('two servers on one %s store', (kind) => {
  let dir: string;
  let aws: AwsStandIns | undefined;
  let servers: EarshotProcess[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), `earshot-shared-${kind}-`));
    let env: Record<string, string> = { EARSHOT_DATA_DIR: dir };
    if (kind === 'dynamodb') {
      aws = await startAwsStandIns();
      env = {
        ...env,
        EARSHOT_STORE: 'dynamodb://earshot-shared',
        EARSHOT_AUDIO: `s3://${BUCKET}/shared`,
        AWS_ENDPOINT_URL_DYNAMODB: aws.dynamoEndpoint,
        AWS_ENDPOINT_URL_S3: aws.s3Endpoint,
        AWS_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId,
        AWS_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey,
        AWS_REGION: 'us-east-1',
      };
      // The table the CDK app would deploy, made by the CLI; a second run finds it.
      const init = await runCli(['store', 'init'], { ...KEYS_ENV, ...env });
      expect(init.stderr).toBe('');
      expect(init.stdout).toMatch(/^DynamoDB table earshot-shared: created; expiry \(TTL on "ttl"\)/);
      expect(init.stdout).toMatch(/Audio: s3:\/\/earshot-audio\/shared reachable\./);
      const again = await runCli(['store', 'init'], { ...KEYS_ENV, ...env });
      expect(again.stdout).toMatch(/^DynamoDB table earshot-shared: already there, with the expected keys/);
    }
    servers = await startAll([env, env]);
  });
  afterAll(async () => {
    await Promise.all(servers.map((server) => server.stop()));
    await aws?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('speaks on both at once: usage is the sum, each lists every item and serves its audio', async () => {
    const texts = servers.flatMap((_, s) =>
      Array.from({ length: 3 }, (_, i) => `Shared store, server ${s + 1}, speech ${i + 1}.`),
    );
    const results = await Promise.all(texts.map((text, i) => servers[i < 3 ? 0 : 1]!.speak(text)));
    expect(results.map((result) => result.status)).toEqual(texts.map(() => 200));
    const ids = results.map((result) => result.body.id).sort();
    const characters = results.reduce((sum, result) => sum + result.body.characters, 0);
    expect(characters).toBe(texts.reduce((sum, text) => sum + text.length, 0));
    for (const server of servers) {
      expect((await server.history()).map((item) => item.id).sort()).toEqual(ids);
      expect(await server.usageToday()).toMatchObject({ characters, reserved: 0 });
    }
    // Audio made by one server, read through the other.
    for (const [made, read] of [
      [0, 1],
      [1, 0],
    ] as const) {
      const result = results[made * 3]!.body;
      expect(result.audioUrl).toEqual(expect.any(String));
      const audio = await fetch(`${servers[read]!.url}${new URL(result.audioUrl!).pathname}`, {
        headers: { authorization: `Bearer ${KEYS.alice}` },
      });
      expect(audio.status).toBe(200);
      expect((await audio.arrayBuffer()).byteLength).toBe(Number(audio.headers.get('content-length')));
    }
  });

  it('holds the daily budget across both: speaking at once on both never passes the limit', async () => {
    const user: User = 'bob';
    // A per-user limit saved through one server is in force on the other.
    const limit = await servers[0]!.api('PUT', '/api/v1/settings', { dailyCharLimit: 100 }, user);
    expect(limit.status).toBe(200);
    const texts = Array.from({ length: 8 }, (_, i) =>
      `Budget check line number ${i + 1}, thirty.`.slice(0, 30),
    );
    expect(new Set(texts.map((text) => text.length))).toEqual(new Set([30]));
    const answers = await Promise.all(texts.map((text, i) => servers[i % 2]!.speak(text, user)));
    const spoken = answers.filter((answer) => answer.status === 200);
    const refused = answers.filter((answer) => answer.status !== 200);
    // 3 × 30 = 90 fit in 100; a fourth would be 120.
    expect(spoken).toHaveLength(3);
    expect(
      refused.map((answer) => [answer.status, (answer.body as unknown as ErrorBody).error.code]),
    ).toEqual(refused.map(() => [402, 'quota_exceeded']));
    for (const server of servers)
      expect(await server.usageToday(user)).toMatchObject({ characters: 90, reserved: 0 });
  });
});

interface ErrorBody {
  readonly error: { readonly code: string; readonly message: string };
}

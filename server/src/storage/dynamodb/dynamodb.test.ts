import { createHash } from 'node:crypto';
import { DescribeTableCommand, GetItemCommand, PutItemCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUCKET, startAwsStandIns, type AwsStandIns } from '../../../test/support/storage-backends.js';
import { at, historyItem, pattern, readAll } from '../../../test/support/storage-items.js';
import { StoreUnavailableError } from '../errors.js';
import { LEGACY_CLIENT_LIFETIME_MS } from '../oauth-contract.js';
import { DynamoStore } from './store.js';
import { STORE_TABLE } from './table-definition.js';
import { createTableIfMissing } from './table.js';

describe('DynamoDB + S3 store', () => {
  let aws: AwsStandIns;
  beforeAll(async () => {
    aws = await startAwsStandIns();
  });
  afterAll(() => aws?.close());

  it('creates the table from the one definition, once', async () => {
    const client = aws.dynamoClient();
    expect(await createTableIfMissing(client, 'earshot-init', { pollMs: 10 })).toEqual({
      created: true,
      timeToLive: 'unsupported',
    });
    expect(await createTableIfMissing(client, 'earshot-init', { pollMs: 10 })).toEqual({
      created: false,
      timeToLive: 'unsupported',
    });
    const { Table } = await client.send(new DescribeTableCommand({ TableName: 'earshot-init' }));
    expect(Table?.BillingModeSummary?.BillingMode).toBe(STORE_TABLE.billingMode);
    expect(Table?.KeySchema).toEqual([
      { AttributeName: 'PK', KeyType: 'HASH' },
      { AttributeName: 'SK', KeyType: 'RANGE' },
    ]);
    expect(Table?.LocalSecondaryIndexes?.map((index) => index.IndexName)).toEqual([
      STORE_TABLE.historyIndex.name,
    ]);
  });

  it('finds DynamoDB and S3 through AWS_ENDPOINT_URL_DYNAMODB and AWS_ENDPOINT_URL_S3 (read by the SDK itself)', async () => {
    await createTableIfMissing(aws.dynamoClient(), 'earshot-env', { pollMs: 10 });
    const names = [
      'AWS_ENDPOINT_URL_DYNAMODB',
      'AWS_ENDPOINT_URL_S3',
      'AWS_ENDPOINT_URL',
      'AWS_ACCESS_KEY_ID',
      'AWS_SECRET_ACCESS_KEY',
      'AWS_REGION',
      'AWS_PROFILE',
      'AWS_SESSION_TOKEN',
    ];
    const saved = Object.fromEntries(names.map((name) => [name, process.env[name]]));
    Object.assign(process.env, {
      AWS_ENDPOINT_URL_DYNAMODB: aws.dynamoEndpoint,
      AWS_ENDPOINT_URL_S3: aws.s3Endpoint,
      AWS_ACCESS_KEY_ID: 'S3RVER',
      AWS_SECRET_ACCESS_KEY: 'S3RVER',
      AWS_REGION: 'us-east-1',
    });
    for (const name of ['AWS_ENDPOINT_URL', 'AWS_PROFILE', 'AWS_SESSION_TOKEN']) delete process.env[name];
    const store = new DynamoStore({ table: 'earshot-env', audio: { bucket: BUCKET, prefix: '/env/' } });
    try {
      await store.addUsage('alice', { characters: 3, credits: 1 });
      const sink = store.openAudio('alice', 'e1');
      sink.write(pattern(32));
      await sink.finish();
      await store.putHistory('alice', historyItem('e1', at(1), 'through the environment', 'Robert', 32));
      expect((await readAll((await store.readAudio('alice', 'e1')).stream)).equals(pattern(32))).toBe(true);
      await expect(store.checkReady()).resolves.toBeUndefined();
      const head = await aws
        .s3Client()
        .send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'env/audio/alice/e1.audio' }));
      expect(head.ContentLength).toBe(32);
    } finally {
      await store.close();
      for (const [name, value] of Object.entries(saved)) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    }
  });

  it('streams a clip larger than one part as a multipart upload', async () => {
    await createTableIfMissing(aws.dynamoClient(), 'earshot-big', { pollMs: 10 });
    const store = new DynamoStore({
      table: 'earshot-big',
      audio: { bucket: BUCKET, prefix: 'big' },
      dynamodb: aws.dynamoClient(),
      s3: aws.s3Client(),
    });
    const clip = pattern(6 * 1024 * 1024 + 123);
    const sink = store.openAudio('alice', 'long');
    for (let offset = 0; offset < clip.length; offset += 64 * 1024)
      sink.write(clip.subarray(offset, offset + 64 * 1024));
    expect(await sink.finish()).toBe(clip.length);
    await store.putHistory('alice', historyItem('long', at(1), 'long clip', 'Robert', clip.length));
    expect((await readAll((await store.readAudio('alice', 'long')).stream)).equals(clip)).toBe(true);
    await store.close();
  });

  it('gives every expiring OAuth item a TTL attribute (epoch seconds), so DynamoDB deletes it', async () => {
    await createTableIfMissing(aws.dynamoClient(), 'earshot-oauth-ttl', { pollMs: 10 });
    const store = new DynamoStore({
      table: 'earshot-oauth-ttl',
      audio: { bucket: BUCKET, prefix: 'ttl' },
      dynamodb: aws.dynamoClient(),
      s3: aws.s3Client(),
    });
    const expiresAt = Date.parse('2030-01-01T00:00:00.500Z');
    await store.oauth.putRequest('r1', '{}', new Date(expiresAt));
    await store.oauth.putSecret({
      hash: 'a'.repeat(64),
      kind: 'access',
      user: 'alice',
      grantId: 'g1',
      expiresAt,
      used: false,
    });
    await store.oauth.putGrant({
      id: 'g1',
      user: 'alice',
      clientId: 'c',
      clientName: 'c',
      createdAt: new Date(0).toISOString(),
      lastUsedAt: null,
      expiresAt: new Date(expiresAt).toISOString(),
    });
    await store.oauth.putClient(
      {
        clientId: 'c1',
        clientName: null,
        clientUri: null,
        redirectUris: [],
        createdAt: new Date(0).toISOString(),
      },
      new Date(expiresAt),
    );
    const clientPk = `oauth#c#${createHash('sha256').update('c1').digest('hex')}`;
    const ttls = async () => {
      const { Items } = await aws.dynamoClient().send(new ScanCommand({ TableName: 'earshot-oauth-ttl' }));
      return Items?.map((item) => [item.PK?.S, item[STORE_TABLE.timeToLiveAttribute]?.N]).sort();
    };
    const seconds = (ms: number) => String(Math.ceil(ms / 1000));
    expect(await ttls()).toEqual(
      [
        ['oauth#r#r1', seconds(expiresAt)],
        [`oauth#s#${'a'.repeat(64)}`, seconds(expiresAt)],
        ['u#alice', seconds(expiresAt)],
        [clientPk, seconds(expiresAt)],
      ].sort(),
    );
    // Keeping a client that is not there writes nothing (an update would otherwise make a bare item).
    await store.oauth.keepClient('not-registered', new Date(expiresAt));
    expect(await ttls()).toHaveLength(4);
    // A client kept longer carries the later TTL.
    await store.oauth.keepClient('c1', new Date(expiresAt + 86_400_000));
    expect((await ttls())?.find(([pk]) => pk === clientPk)).toEqual([
      clientPk,
      seconds(expiresAt + 86_400_000),
    ]);
    await store.close();
  });

  it('gives a client registered before registrations expired an expiry at its first read, and keeps it', async () => {
    const table = 'earshot-oauth-legacy-client';
    await createTableIfMissing(aws.dynamoClient(), table, { pollMs: 10 });
    const store = new DynamoStore({
      table,
      audio: { bucket: BUCKET, prefix: 'legacy-client' },
      dynamodb: aws.dynamoClient(),
      s3: aws.s3Client(),
    });
    const client = {
      clientId: 'https://old.example/client.json',
      clientName: 'Old app',
      clientUri: null,
      redirectUris: ['https://old.example/callback'],
      createdAt: new Date(0).toISOString(),
    };
    const clientPk = `oauth#c#${createHash('sha256').update(client.clientId).digest('hex')}`;
    // As an earlier Earshot wrote it: no `exp`, no TTL.
    await aws.dynamoClient().send(
      new PutItemCommand({
        TableName: table,
        Item: { PK: { S: clientPk }, SK: { S: 'client' }, doc: { S: JSON.stringify(client) } },
      }),
    );
    const stored = async () => {
      const { Item } = await aws
        .dynamoClient()
        .send(new GetItemCommand({ TableName: table, Key: { PK: { S: clientPk }, SK: { S: 'client' } } }));
      return { exp: Item?.exp?.N, ttl: Item?.[STORE_TABLE.timeToLiveAttribute]?.N };
    };
    const firstRead = Date.parse('2026-12-02T12:00:00.000Z');
    const expiresAt = firstRead + LEGACY_CLIENT_LIFETIME_MS;
    expect(await store.oauth.getClient(client.clientId, new Date(firstRead))).toEqual(client);
    expect(await stored()).toEqual({ exp: String(expiresAt), ttl: String(Math.ceil(expiresAt / 1000)) });
    // A later read does not move it on; only a token issue (keepClient) does.
    expect(await store.oauth.getClient(client.clientId, new Date(firstRead + 86_400_000))).toEqual(client);
    expect((await stored()).exp).toBe(String(expiresAt));
    expect(await store.oauth.getClient(client.clientId, new Date(expiresAt))).toBeNull();
    await store.close();
  });

  it('reports a missing table, and an unreachable endpoint, as StoreUnavailableError', async () => {
    const missing = new DynamoStore({
      table: 'no-such-table',
      audio: { bucket: BUCKET, prefix: '' },
      dynamodb: aws.dynamoClient(),
      s3: aws.s3Client(),
    });
    const error = await missing
      .addUsage('alice', { characters: 1, credits: 0 })
      .catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(StoreUnavailableError);
    expect((error as Error).message).toMatch(/earshot store init/);
    await expect(missing.checkReady()).rejects.toBeInstanceOf(StoreUnavailableError);
    await expect(missing.reserveBudget({ user: 'alice', characters: 1, limit: 10 })).rejects.toBeInstanceOf(
      StoreUnavailableError,
    );

    const other = await startAwsStandIns();
    await createTableIfMissing(other.dynamoClient(), 'earshot-down', { pollMs: 10 });
    const down = new DynamoStore({
      table: 'earshot-down',
      audio: { bucket: BUCKET, prefix: '' },
      dynamodb: other.dynamoClient(),
      s3: other.s3Client(),
    });
    await other.close();
    await expect(down.reserveBudget({ user: 'alice', characters: 1, limit: 10 })).rejects.toBeInstanceOf(
      StoreUnavailableError,
    );
    await expect(down.listHistory('alice', { limit: 5 })).rejects.toBeInstanceOf(StoreUnavailableError);
    const sink = down.openAudio('alice', 'lost');
    sink.write(pattern(10));
    await expect(sink.finish()).rejects.toBeInstanceOf(StoreUnavailableError);
    await down.close();
    await missing.close();
  });
});

/**
 * The store backends the contract suite runs against: SQLite in a temporary folder, and DynamoDB through
 * dynalite (in-process, LevelDB in memory) with audio in S3 through s3rver — both on 127.0.0.1, port 0.
 * `open()` gives another store instance on the same data, like a second process or task.
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import dynalite from 'dynalite';
import S3rver from 's3rver';
import type { Store } from '../../src/storage/contract.js';
import { DynamoStore, type DynamoStoreOptions } from '../../src/storage/dynamodb/store.js';
import { createTableIfMissing } from '../../src/storage/dynamodb/table.js';
import { SqliteStore, type SqliteStoreOptions } from '../../src/storage/sqlite/store.js';

export type BackendKind = 'sqlite' | 'dynamodb';
export const BACKENDS: readonly BackendKind[] = ['sqlite', 'dynamodb'];

export interface OpenOptions {
  readonly now?: () => Date;
  readonly reservationLeaseMs?: number;
}

export interface BackendFixture {
  readonly kind: BackendKind;
  /** A new store instance on the same data. Closed by `close()`. */
  open(options?: OpenOptions): Promise<Store>;
  /** Every audio file or object the backend holds (temporary ones included), as relative names. */
  audioObjects(): Promise<string[]>;
  close(): Promise<void>;
}

let counter = 0;
/** A user name no other test uses, so tests share a backend and still run in any order. */
export function uniqueUser(label = 'u'): string {
  return `${label}-${process.pid}-${Date.now().toString(36)}-${(counter++).toString(36)}`;
}

export function startBackend(kind: BackendKind): Promise<BackendFixture> {
  return kind === 'sqlite' ? startSqlite() : startDynamo();
}

export async function startSqlite(
  extra: Partial<SqliteStoreOptions> = {},
): Promise<BackendFixture & { dataDir: string }> {
  const dataDir = await mkdtemp(join(tmpdir(), 'earshot-sqlite-'));
  const stores: Store[] = [];
  return {
    kind: 'sqlite',
    dataDir,
    async open(options = {}) {
      const store = SqliteStore.open({ dataDir, maintainOnOpen: false, ...extra, ...options });
      stores.push(store);
      return store;
    },
    async audioObjects() {
      const root = join(dataDir, 'audio');
      const users = await readdir(root).catch(() => [] as string[]);
      const names: string[] = [];
      for (const user of users)
        for (const file of await readdir(join(root, user))) names.push(`${user}/${file}`);
      return names.sort();
    },
    async close() {
      await Promise.allSettled(stores.map((store) => store.close()));
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

export const TEST_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };
export const BUCKET = 'earshot-audio';

export interface AwsStandIns {
  readonly dynamoEndpoint: string;
  readonly s3Endpoint: string;
  dynamoClient(): DynamoDBClient;
  s3Client(): S3Client;
  close(): Promise<void>;
}

export async function startAwsStandIns(): Promise<AwsStandIns> {
  const dynamo = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve) => dynamo.listen(0, '127.0.0.1', resolve));
  const dynamoEndpoint = `http://127.0.0.1:${(dynamo.address() as AddressInfo).port}`;
  const directory = await mkdtemp(join(tmpdir(), 'earshot-s3rver-'));
  const s3 = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory,
    configureBuckets: [{ name: BUCKET, configs: [] }],
  });
  const info = (await s3.run()) as { port: number };
  const s3Endpoint = `http://127.0.0.1:${info.port}`;
  const clients: { destroy(): void }[] = [];
  return {
    dynamoEndpoint,
    s3Endpoint,
    dynamoClient() {
      const client = new DynamoDBClient({
        endpoint: dynamoEndpoint,
        region: 'us-east-1',
        credentials: TEST_CREDENTIALS,
      });
      clients.push(client);
      return client;
    },
    s3Client() {
      const client = new S3Client({
        endpoint: s3Endpoint,
        forcePathStyle: true,
        region: 'us-east-1',
        credentials: TEST_CREDENTIALS,
      });
      clients.push(client);
      return client;
    },
    async close() {
      for (const client of clients) client.destroy();
      await new Promise<void>((resolve) => dynamo.close(() => resolve()));
      await s3.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}

export async function startDynamo(
  extra: Partial<DynamoStoreOptions> = {},
): Promise<BackendFixture & { aws: AwsStandIns; table: string }> {
  const aws = await startAwsStandIns();
  const table = `earshot-${process.pid}-${(counter++).toString(36)}`;
  const prefix = `data-${(counter++).toString(36)}`;
  await createTableIfMissing(aws.dynamoClient(), table, { pollMs: 10 });
  const stores: Store[] = [];
  const s3 = aws.s3Client();
  return {
    kind: 'dynamodb',
    aws,
    table,
    async open(options = {}) {
      const store = new DynamoStore({
        table,
        audio: { bucket: BUCKET, prefix },
        dynamodb: aws.dynamoClient(),
        s3: aws.s3Client(),
        ...extra,
        ...options,
      });
      stores.push(store);
      return store;
    },
    async audioObjects() {
      const page = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: `${prefix}/audio/` }));
      return (page.Contents ?? []).map((object) => object.Key!.slice(`${prefix}/audio/`.length)).sort();
    },
    async close() {
      await Promise.allSettled(stores.map((store) => store.close()));
      await aws.close();
    },
  };
}

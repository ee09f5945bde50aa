import { describe, expect, it } from 'vitest';
import { parseStoreLocation } from './config.js';
import { StoreInputError } from './errors.js';

describe('EARSHOT_STORE and EARSHOT_AUDIO', () => {
  it('defaults to SQLite in the data folder', () => {
    expect(parseStoreLocation({}, '/data')).toEqual({ kind: 'sqlite', dataDir: '/data' });
    expect(parseStoreLocation({ EARSHOT_STORE: 'local' }, '/data')).toEqual({
      kind: 'sqlite',
      dataDir: '/data',
    });
  });

  it('reads a DynamoDB table with its S3 audio location', () => {
    expect(
      parseStoreLocation(
        { EARSHOT_STORE: 'dynamodb://earshot-prod', EARSHOT_AUDIO: 's3://my-bucket/a/b/' },
        '/d',
      ),
    ).toEqual({
      kind: 'dynamodb',
      table: 'earshot-prod',
      audio: { bucket: 'my-bucket', prefix: 'a/b' },
    });
    expect(
      parseStoreLocation({ EARSHOT_STORE: 'dynamodb://t_1.x', EARSHOT_AUDIO: 's3://bucket' }, '/d'),
    ).toMatchObject({
      audio: { bucket: 'bucket', prefix: '' },
    });
  });

  it.each([
    [{ EARSHOT_STORE: 'dynamodb://earshot' }, /needs EARSHOT_AUDIO/],
    [{ EARSHOT_STORE: 'dynamodb://ab', EARSHOT_AUDIO: 's3://bucket' }, /names the table/],
    [{ EARSHOT_STORE: 'dynamodb://earshot', EARSHOT_AUDIO: 's3://Bad_Bucket' }, /not a valid S3 bucket/],
    [{ EARSHOT_STORE: 's3://bucket/prefix' }, /is gone: use EARSHOT_STORE=dynamodb/],
    [{ EARSHOT_STORE: 'postgres://x' }, /must be "local" or "dynamodb/],
    [{ EARSHOT_AUDIO: 's3://bucket' }, /only for EARSHOT_STORE=dynamodb/],
  ])('refuses %j', (env, message) => {
    expect(() => parseStoreLocation(env, '/d')).toThrow(StoreInputError);
    expect(() => parseStoreLocation(env, '/d')).toThrow(message);
  });
});

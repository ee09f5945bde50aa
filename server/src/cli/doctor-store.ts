import type { StoreLocation } from '../storage/index.js';

/**
 * `earshot doctor`'s store check: the SQLite file read page by page (`quick_check`) and a test write, or
 * the DynamoDB table and audio bucket written to. Throws the store's error, whose message says what to
 * do (a damaged database: which file, and how to recover).
 */
export async function checkStore(location: StoreLocation): Promise<string> {
  const { openStore, SqliteStore } = await import('../storage/index.js');
  const store = await openStore(location, { integrityCheck: 'quick', maintainOnOpen: false });
  try {
    await store.checkReady();
    if (store instanceof SqliteStore) return `${store.path}: intact (quick_check) and writable`;
    return location.kind === 'dynamodb'
      ? `DynamoDB table ${location.table} and s3://${location.audio.bucket}/${location.audio.prefix} writable`
      : 'writable';
  } finally {
    await store.close();
  }
}

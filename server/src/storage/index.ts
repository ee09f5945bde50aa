import type { StoreLocation } from './config.js';
import type { Store } from './contract.js';
import { SqliteStore, type SqliteStoreOptions } from './sqlite/store.js';

export type * from './contract.js';
export * from './errors.js';
export { parseStoreLocation, type StoreLocation } from './config.js';
export { SqliteStore, DATABASE_FILE, type SqliteStoreOptions } from './sqlite/store.js';
export { importLegacyData, type LegacyImportReport } from './legacy-import.js';
export { STORE_TABLE } from './dynamodb/table-definition.js';

/**
 * Opens the store EARSHOT_STORE names. The AWS SDK is loaded only for DynamoDB (a laptop never needs it);
 * of the options, only the clock (`now`) applies to it.
 */
export async function openStore(
  location: StoreLocation,
  options: Omit<SqliteStoreOptions, 'dataDir'> = {},
): Promise<Store> {
  if (location.kind === 'sqlite') return SqliteStore.open({ ...options, dataDir: location.dataDir });
  const { DynamoStore } = await import('./dynamodb/store.js');
  return new DynamoStore({ table: location.table, audio: location.audio, now: options.now });
}

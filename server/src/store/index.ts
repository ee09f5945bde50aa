import type { StoreConfig } from '../config/env.js';
import { LocalStore } from './local.js';
import type { Store } from './types.js';

export type { AudioSink, DailyUsage, Store } from './types.js';
export { LocalStore } from './local.js';

export async function createStore(config: StoreConfig): Promise<Store> {
  if (config.kind === 's3') {
    throw new Error('EARSHOT_STORE=s3://… is not available in this build yet; use the local store.');
  }
  return new LocalStore(config.dir);
}

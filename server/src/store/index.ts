import type { StoreConfig } from '../config/env.js';
import { LocalStore } from './local.js';
import type { Store } from './types.js';

export type { AudioSink, DailyUsage, Store } from './types.js';
export { LocalStore } from './local.js';

export async function createStore(config: StoreConfig): Promise<Store> {
  if (config.kind === 's3') {
    // Loaded only when used: the AWS SDK is large and a laptop with the local store never needs it.
    const { S3Store } = await import('./s3.js');
    return new S3Store({ bucket: config.bucket, prefix: config.prefix });
  }
  return new LocalStore(config.dir);
}

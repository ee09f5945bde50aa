/** `EARSHOT_STORE` / `EARSHOT_AUDIO` as the store needs them; config/env.ts calls this once at boot (phase 2). */
import { StoreInputError } from './errors.js';

export type StoreLocation =
  | { readonly kind: 'sqlite'; readonly dataDir: string }
  | {
      readonly kind: 'dynamodb';
      readonly table: string;
      readonly audio: { readonly bucket: string; readonly prefix: string };
    };

const TABLE_NAME = /^[A-Za-z0-9_.-]{3,255}$/;
const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

export function parseStoreLocation(
  env: { EARSHOT_STORE?: string; EARSHOT_AUDIO?: string },
  dataDir: string,
): StoreLocation {
  const store = env.EARSHOT_STORE?.trim() ?? '';
  if (store === '' || store === 'local') {
    if (env.EARSHOT_AUDIO) {
      throw new StoreInputError(
        'EARSHOT_AUDIO is only for EARSHOT_STORE=dynamodb://TABLE; the local store keeps audio in EARSHOT_DATA_DIR.',
      );
    }
    return { kind: 'sqlite', dataDir };
  }
  if (store.startsWith('s3://')) {
    throw new StoreInputError(
      'EARSHOT_STORE=s3://… (JSON files in S3) is gone: use EARSHOT_STORE=dynamodb://TABLE with EARSHOT_AUDIO=s3://BUCKET/PREFIX.',
    );
  }
  if (!store.startsWith('dynamodb://')) {
    // Not echoed: a value in the wrong variable may be a key.
    throw new StoreInputError('EARSHOT_STORE must be "local" or "dynamodb://TABLE" (default: local).');
  }
  const table = store.slice('dynamodb://'.length).replace(/\/+$/, '');
  if (!TABLE_NAME.test(table)) {
    throw new StoreInputError(
      `EARSHOT_STORE names the table ${JSON.stringify(table)}: 3–255 of A-Z a-z 0-9 _ . -`,
    );
  }
  const audio = env.EARSHOT_AUDIO?.trim() ?? '';
  if (!audio.startsWith('s3://')) {
    throw new StoreInputError(
      'EARSHOT_STORE=dynamodb://TABLE needs EARSHOT_AUDIO=s3://BUCKET/PREFIX for the audio.',
    );
  }
  const [bucket = '', ...rest] = audio.slice('s3://'.length).split('/');
  if (!BUCKET_NAME.test(bucket))
    throw new StoreInputError(
      `EARSHOT_AUDIO names the bucket ${JSON.stringify(bucket)}, which is not a valid S3 bucket name.`,
    );
  return { kind: 'dynamodb', table, audio: { bucket, prefix: rest.join('/').replace(/^\/+|\/+$/g, '') } };
}

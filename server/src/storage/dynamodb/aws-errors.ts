import { StoreError, StoreFullError, StoreUnavailableError } from '../errors.js';

/** DynamoDB/S3 errors that mean "nothing more fits" rather than "not reachable now". */
const FULL = new Set(['ItemCollectionSizeLimitExceededException']);

/**
 * Maps an AWS SDK error (or a network failure under it) to the StoreError callers act on. Everything that
 * is not "full" is unavailability: throttling, 5xx, missing table or bucket, refused connections, denied
 * access — the server fails closed on all of them alike; the message keeps the SDK's name for the logs.
 */
export function awsError(error: unknown, what: string): StoreError {
  if (error instanceof StoreError) return error;
  const e = error as { name?: string; message?: string; code?: string } | null;
  const name = e?.name ?? 'Error';
  const detail = `${name}: ${e?.message ?? String(error)}`;
  if (FULL.has(name)) return new StoreFullError(`Could not ${what}: ${detail}.`, { cause: error });
  const hint =
    name === 'ResourceNotFoundException'
      ? ' Create the table with "earshot store init" (or deploy the CDK app).'
      : name === 'NoSuchBucket'
        ? ' Check EARSHOT_AUDIO.'
        : '';
  return new StoreUnavailableError(`Could not ${what}: ${detail}.${hint}`, { cause: error });
}

export function isConditionFailure(error: unknown): boolean {
  return (error as { name?: string } | null)?.name === 'ConditionalCheckFailedException';
}

export function isS3NotFound(error: unknown): boolean {
  const e = error as { name?: string; $metadata?: { httpStatusCode?: number } } | null;
  // Not every 404: NoSuchBucket is a fault to report, not a missing clip.
  return e?.name === 'NoSuchKey' || (e?.name === 'NotFound' && e.$metadata?.httpStatusCode === 404);
}

import type { Logger } from 'pino';

/** Waits between attempts of a failed store write: four retries over about 21 s. */
export const STORE_RETRY_DELAYS_MS: readonly number[] = [200, 1000, 5000, 15_000];

/**
 * Runs a store write without making the caller wait, retrying with backoff so a passing store failure
 * does not lose the record. Only after every retry fails is the loss logged.
 */
export function retryInBackground(
  write: () => Promise<void>,
  log: Logger,
  what: string,
  delaysMs: readonly number[] = STORE_RETRY_DELAYS_MS,
): Promise<void> {
  const attempt = async (index: number): Promise<void> => {
    try {
      await write();
    } catch (error) {
      const delay = delaysMs[index];
      if (delay === undefined) {
        log.error({ err: error, what }, 'store write failed after retries; record lost');
        return;
      }
      log.warn({ err: error, what, retryInMs: delay }, 'store write failed; retrying');
      await new Promise((resolve) => setTimeout(resolve, delay).unref());
      return attempt(index + 1);
    }
  };
  return attempt(0);
}

/** How the first attempt of a store write ended. */
export type FirstAttempt = { readonly written: true } | { readonly written: false; readonly error: unknown };

/**
 * Writes now and, when that attempt fails, keeps retrying in the background (the delays of
 * retryInBackground). Resolves once the first attempt is over, so a caller can say at once whether the
 * record was kept (a result must never claim what is not there) without waiting for the retries.
 */
export async function writeNowOrRetry(
  write: () => Promise<void>,
  log: Logger,
  what: string,
  delaysMs: readonly number[] = STORE_RETRY_DELAYS_MS,
): Promise<FirstAttempt> {
  try {
    await write();
    return { written: true };
  } catch (error) {
    const [delay, ...later] = delaysMs;
    if (delay === undefined) log.error({ err: error, what }, 'store write failed after retries; record lost');
    else {
      log.warn({ err: error, what, retryInMs: delay }, 'store write failed; retrying');
      void new Promise((resolve) => setTimeout(resolve, delay).unref()).then(() =>
        retryInBackground(write, log, what, later),
      );
    }
    return { written: false, error };
  }
}

/**
 * What went wrong with a Flite request, for callers that map failures to their own errors:
 * - `crashed`: the worker thread died mid-job (it is replaced; trying again works);
 * - `audio_too_long`: the request produced more audio than the synthesizer allows;
 * - `unavailable`: the WebAssembly program or a worker could not start;
 * - `closed`: the synthesizer was closed;
 * - `unknown_voice`, `failed`: a bad voice id, or Flite itself reported an error.
 */
export type FliteErrorCode =
  'crashed' | 'audio_too_long' | 'unavailable' | 'closed' | 'unknown_voice' | 'failed';

export class FliteError extends Error {
  readonly code: FliteErrorCode;

  constructor(code: FliteErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = 'FliteError';
    this.code = code;
  }
}

export function crashedError(cause?: unknown): FliteError {
  return new FliteError('crashed', 'The offline voice engine crashed while speaking; try again.', { cause });
}

export function audioTooLongError(maxSeconds: number): FliteError {
  const limit =
    maxSeconds % 60 === 0
      ? `${maxSeconds / 60} minute${maxSeconds === 60 ? '' : 's'}`
      : `${maxSeconds} second${maxSeconds === 1 ? '' : 's'}`;
  return new FliteError(
    'audio_too_long',
    `This speech would be longer than ${limit} of audio; split the text into shorter pieces.`,
  );
}

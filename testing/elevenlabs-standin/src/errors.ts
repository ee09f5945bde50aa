import { randomBytes } from 'node:crypto';

/** `request-id` values look like the real ones: 32 lowercase hex digits. */
export function newRequestId(): string {
  return randomBytes(16).toString('hex');
}

/** Ids of voices, history items and the like: 20 alphanumerics, as ElevenLabs uses. */
export function newElevenLabsId(): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  return Array.from(randomBytes(20), (byte) => alphabet[byte % alphabet.length]).join('');
}

/** The body ElevenLabs sends for every error except request validation (422). */
export interface DetailError {
  readonly detail: {
    readonly type: string;
    readonly code: string;
    readonly status: string;
    readonly message: string;
    readonly request_id: string;
  };
}

export function detailError(type: string, code: string, message: string, requestId: string): DetailError {
  return { detail: { type, code, status: code, message, request_id: requestId } };
}

/** FastAPI-style validation errors (422), as the real API sends them. */
export interface ValidationIssue {
  readonly loc: readonly (string | number)[];
  readonly msg: string;
  readonly type: string;
  readonly input?: unknown;
}

export function validationError(issues: readonly ValidationIssue[]): { detail: readonly ValidationIssue[] } {
  return { detail: issues };
}

/** The error the real API sends for each status the fault injector can produce, when no body is given. */
export function defaultErrorBody(status: number, requestId: string): unknown {
  switch (status) {
    case 400:
      return detailError('validation_error', 'invalid_request', 'The request is invalid.', requestId);
    case 401:
      return detailError('authentication_error', 'invalid_api_key', 'Invalid API key', requestId);
    case 402:
      return detailError(
        'payment_required',
        'quota_exceeded',
        'This request exceeds your quota of characters. Upgrade your plan or wait for the reset.',
        requestId,
      );
    case 403:
      return detailError(
        'authorization_error',
        'subscription_required',
        'This feature is not available on your subscription.',
        requestId,
      );
    case 404:
      return detailError(
        'not_found_error',
        'voice_not_found',
        'A voice with the voice_id was not found.',
        requestId,
      );
    case 422:
      return validationError([{ loc: ['body', 'text'], msg: 'Field required', type: 'missing' }]);
    case 429:
      return detailError(
        'rate_limit_error',
        'too_many_concurrent_requests',
        'Too many concurrent requests: your subscription allows a limited number at the same time. Try again shortly.',
        requestId,
      );
    case 500:
    case 503:
      return detailError(
        'service_unavailable',
        'system_busy',
        'The system is experiencing heavy traffic, please try again later.',
        requestId,
      );
    default:
      return detailError('internal_error', 'internal_error', 'An unexpected error occurred.', requestId);
  }
}

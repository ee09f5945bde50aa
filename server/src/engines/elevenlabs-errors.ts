import { EarshotError } from '../errors.js';

/**
 * An error answer from ElevenLabs: the SDK's ElevenLabsError or elevenlabs-http.ts's, which share these
 * fields. Recognised by shape, so that reading an error never loads the SDK.
 */
interface UpstreamError {
  readonly statusCode?: number;
  readonly body?: unknown;
  readonly rawResponse?: { readonly headers: { get(name: string): string | null } };
}

function isUpstreamError(error: unknown): error is Error & UpstreamError {
  // The SDK's subclasses (NotFoundError, UnprocessableEntityError…) have names of their own; the fields are common.
  return error instanceof Error && 'statusCode' in error && 'body' in error;
}

/** The `detail` of an ElevenLabs error body, when it has the documented shape. */
function detailOf(body: unknown): { code?: string; status?: string; message?: string } {
  if (typeof body !== 'object' || body === null || !('detail' in body)) return {};
  const detail = body.detail;
  if (typeof detail !== 'object' || detail === null || Array.isArray(detail)) return {};
  return detail;
}

function retryAfter(error: UpstreamError): number | undefined {
  const header = error.rawResponse?.headers.get('retry-after');
  const seconds = header ? Number(header) : NaN;
  return Number.isFinite(seconds) ? seconds : undefined;
}

/**
 * Translates what the ElevenLabs SDK throws into errors that tell the agent what to do. Upstream bodies
 * are read for their error code only; their text never reaches clients.
 */
export function fromElevenLabsError(error: unknown, context: { voiceId?: string }): EarshotError {
  if (error instanceof EarshotError) return error;
  if (error instanceof Error && error.name === 'AbortError') {
    return new EarshotError('cancelled', 'The request was cancelled.', { cause: error });
  }
  if (error instanceof Error && error.name === 'ElevenLabsTimeoutError') {
    return new EarshotError(
      'upstream_busy',
      'ElevenLabs did not answer in time; try again in a few seconds.',
      {
        cause: error,
        retryAfterSeconds: 5,
      },
    );
  }
  if (!isUpstreamError(error) || error.statusCode === undefined) {
    return new EarshotError(
      'upstream_error',
      'Could not reach ElevenLabs (network error); check the connection and ELEVENLABS_BASE_URL.',
      { cause: error },
    );
  }
  const detail = detailOf(error.body);
  const code = detail.code ?? detail.status ?? '';
  const status = error.statusCode;
  if (status === 401 && code === 'quota_exceeded') {
    return new EarshotError(
      'quota_exceeded',
      'ElevenLabs says the account has no credits left for this text.',
      {
        cause: error,
      },
    );
  }
  if (status === 402) {
    return new EarshotError(
      'quota_exceeded',
      'ElevenLabs says the account has too few credits for this text.',
      {
        cause: error,
      },
    );
  }
  if (status === 401 || status === 403) {
    return new EarshotError(
      'upstream_unauthorized',
      `ElevenLabs rejected the API key (HTTP ${status}${code ? `, ${code}` : ''}); check ELEVENLABS_API_KEY and its permissions.`,
      { cause: error },
    );
  }
  if (status === 404) {
    return new EarshotError(
      'unknown_voice',
      `ElevenLabs does not know voice "${context.voiceId ?? '?'}"; call list_voices for valid voices.`,
      { cause: error },
    );
  }
  if (status === 400 || status === 422) {
    return new EarshotError(
      code === 'max_character_limit_exceeded' ? 'text_too_long' : 'invalid_input',
      `ElevenLabs refused the request (HTTP ${status}${code ? `, ${code}` : ''}); check the text, model and voice settings.`,
      { cause: error },
    );
  }
  if (status === 429) {
    const seconds = retryAfter(error) ?? 1;
    return new EarshotError(
      'upstream_busy',
      `ElevenLabs answered 429 (${code || 'too many requests'}): too many concurrent requests — retry in ${seconds} s.`,
      { cause: error, retryAfterSeconds: seconds },
    );
  }
  return new EarshotError(
    'upstream_busy',
    `ElevenLabs had a server error (HTTP ${status}); try again in a few seconds.`,
    { cause: error, retryAfterSeconds: retryAfter(error) ?? 5 },
  );
}

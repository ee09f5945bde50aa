import type { FastifyError, FastifyInstance } from 'fastify';
import { EarshotError, toEarshotError } from '../errors.js';

/** Longest error message sent to a client: enough to say what to do, too short to echo a payload back. */
const MAX_MESSAGE_CHARS = 300;

/**
 * A short, printable excerpt of text that may hold user input (a URL, a key name, a header): control
 * characters become spaces and anything past `max` characters is cut with an ellipsis.
 */
export function excerpt(text: string, max = MAX_MESSAGE_CHARS): string {
  // Cut first: cleaning a megabyte to keep 300 characters would be wasted work.
  const cut = text.length > max ? text.slice(0, max) : text;
  // eslint-disable-next-line no-control-regex
  const clean = cut.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, ' ');
  return text.length > max ? `${clean.slice(0, max - 1)}…` : clean;
}

/** What an error is answered: its status, extra headers, and the `{ error: { code, message } }` body. */
export interface ErrorReply {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: { readonly error: { readonly code: string; readonly message: string } };
}

/**
 * How any route answers an error: EarshotErrors keep their code and message; request problems Fastify finds
 * (bad JSON, body too large) keep theirs; anything else is a generic 500 with details only in the log. Messages
 * are cut to a short excerpt, whatever input they quote.
 */
export function errorReply(
  thrown: (Error & Partial<Pick<FastifyError, 'code' | 'statusCode'>>) | EarshotError,
  log: { warn(details: object, message: string): void; error(details: object, message: string): void },
): ErrorReply {
  // Failures with a cause users can act on (a full disk…) become EarshotErrors; the rest stay as they are.
  const mapped = thrown instanceof EarshotError ? thrown : toEarshotError(thrown);
  const error = mapped.code === 'internal' ? thrown : mapped;
  if (error instanceof EarshotError) {
    const headers: Record<string, string> =
      error.retryAfterSeconds === undefined ? {} : { 'retry-after': String(error.retryAfterSeconds) };
    if (error.httpStatus >= 500) log.warn({ err: error.cause ?? error, code: error.code }, 'request failed');
    return {
      status: error.httpStatus,
      headers,
      body: { error: { code: error.code, message: excerpt(error.message) } },
    };
  }
  const status = error.statusCode ?? 500;
  if (status < 500) {
    return {
      status,
      headers: {},
      body: { error: { code: error.code ?? 'invalid_input', message: excerpt(error.message) } },
    };
  }
  log.error({ err: error }, 'unhandled error');
  return {
    status: 500,
    headers: {},
    body: { error: { code: 'internal', message: 'Internal error; the server log has details.' } },
  };
}

/** One error handler for every Fastify route (errorReply), and the answer to a request no route matches. */
export function registerErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((thrown: FastifyError | EarshotError, request, reply) => {
    const answer = errorReply(thrown, request.log);
    return reply.code(answer.status).headers(answer.headers).send(answer.body);
  });

  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send({
      error: {
        code: 'not_found',
        message: `No route ${request.method} ${excerpt(request.url.split('?')[0] ?? '', 100)}`,
      },
    }),
  );
}

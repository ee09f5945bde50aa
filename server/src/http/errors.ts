import type { FastifyError, FastifyInstance } from 'fastify';
import { EarshotError } from '../errors.js';

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

/**
 * One error handler: EarshotErrors keep their code and message; request problems Fastify finds (bad JSON,
 * body too large) keep theirs; anything else is a generic 500 with details only in the log. Messages are cut
 * to a short excerpt, whatever input they quote.
 */
export function registerErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError | EarshotError, request, reply) => {
    if (error instanceof EarshotError) {
      if (error.retryAfterSeconds !== undefined) reply.header('retry-after', String(error.retryAfterSeconds));
      if (error.httpStatus >= 500)
        request.log.warn({ err: error.cause ?? error, code: error.code }, 'request failed');
      return reply
        .code(error.httpStatus)
        .send({ error: { code: error.code, message: excerpt(error.message) } });
    }
    const status = error.statusCode ?? 500;
    if (status < 500) {
      return reply
        .code(status)
        .send({ error: { code: error.code ?? 'invalid_input', message: excerpt(error.message) } });
    }
    request.log.error({ err: error }, 'unhandled error');
    return reply
      .code(500)
      .send({ error: { code: 'internal', message: 'Internal error; the server log has details.' } });
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

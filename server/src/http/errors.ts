import type { FastifyError, FastifyInstance } from 'fastify';
import { EarshotError } from '../errors.js';

/**
 * One error handler: EarshotErrors keep their code and message; request problems Fastify finds (bad JSON,
 * body too large) keep theirs; anything else is a generic 500 with details only in the log.
 */
export function registerErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError | EarshotError, request, reply) => {
    if (error instanceof EarshotError) {
      if (error.retryAfterSeconds !== undefined) reply.header('retry-after', String(error.retryAfterSeconds));
      if (error.httpStatus >= 500)
        request.log.warn({ err: error.cause ?? error, code: error.code }, 'request failed');
      return reply.code(error.httpStatus).send({ error: { code: error.code, message: error.message } });
    }
    const status = error.statusCode ?? 500;
    if (status < 500) {
      return reply
        .code(status)
        .send({ error: { code: error.code ?? 'invalid_input', message: error.message } });
    }
    request.log.error({ err: error }, 'unhandled error');
    return reply
      .code(500)
      .send({ error: { code: 'internal', message: 'Internal error; the server log has details.' } });
  });

  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send({
      error: { code: 'not_found', message: `No route ${request.method} ${request.url.split('?')[0]}` },
    }),
  );
}

import type { FastifyInstance } from 'fastify';
import type { AppDeps } from './deps.js';

/** `/healthz`: the process answers. `/readyz`: the engine and store can serve and we are not draining. */
export function registerHealthRoutes(app: FastifyInstance, deps: AppDeps): void {
  app.get('/healthz', async () => ({ status: 'ok' }));

  app.get('/readyz', async (request, reply) => {
    if (deps.lifecycle.draining) return reply.code(503).send({ status: 'draining' });
    try {
      await Promise.all([deps.engine.checkReady(), deps.store.checkReady()]);
      return { status: 'ready', engine: deps.engine.name, store: deps.store.kind };
    } catch (error) {
      request.log.warn({ err: error }, 'not ready');
      return reply.code(503).send({ status: 'not_ready' });
    }
  });
}

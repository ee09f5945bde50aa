import type { FastifyInstance } from 'fastify';
import { StoreError } from '../storage/index.js';
import type { AppDeps } from './deps.js';

/** Longer than this and /readyz answers 503 `timeout` instead of waiting for a stuck engine or store. */
export const READY_TIMEOUT_MS = 5000;

/**
 * `/healthz`: the process answers. `/readyz`: the engine answers and the store can write now (the same
 * write speech needs before it spends), and we are not draining. A store that cannot write answers 503
 * with its reason (`store_full`, `store_unavailable`, `store_corrupt`); nothing here waits longer than
 * `readyTimeoutMs`.
 */
export function registerHealthRoutes(
  app: FastifyInstance,
  deps: AppDeps,
  readyTimeoutMs = READY_TIMEOUT_MS,
): void {
  app.get('/healthz', async () => ({ status: 'ok' }));

  app.get('/readyz', async (request, reply) => {
    if (deps.lifecycle.draining) return reply.code(503).send({ status: 'draining' });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), readyTimeoutMs);
    });
    const checks = Promise.all([deps.engine.checkReady(), deps.store.checkReady()]).then(
      () => 'ready' as const,
      (error: unknown) => error,
    );
    const result = await Promise.race([checks, timeout]);
    clearTimeout(timer);
    if (result === 'ready') return { status: 'ready', engine: deps.engine.name, store: deps.store.backend };
    const reason =
      result === 'timeout' ? 'timeout' : result instanceof StoreError ? result.code : 'engine_unavailable';
    request.log.warn({ err: result === 'timeout' ? undefined : result, reason }, 'not ready');
    return reply.code(503).send({ status: 'not_ready', reason });
  });
}

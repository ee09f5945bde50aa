import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { StoreCorruptError, StoreFullError, type Store } from '../storage/index.js';
import type { VoiceEngine } from '../engines/index.js';
import type { AppDeps } from './deps.js';
import { registerHealthRoutes } from './health.js';

/** /readyz over stand-ins for the engine's and the store's readiness checks (the only parts it calls). */
async function readyz(checks: { engine?: () => Promise<void>; store?: () => Promise<void> }) {
  const app = Fastify();
  const deps = {
    lifecycle: { draining: false },
    engine: { name: 'offline', checkReady: checks.engine ?? (async () => undefined) } as VoiceEngine,
    store: { backend: 'sqlite', checkReady: checks.store ?? (async () => undefined) } as Store,
  } as unknown as AppDeps;
  registerHealthRoutes(app, deps, 20);
  const response = await app.inject({ method: 'GET', url: '/readyz' });
  await app.close();
  return { status: response.statusCode, body: response.json<Record<string, unknown>>() };
}

describe('/readyz', () => {
  it('is ready when the engine answers and the store can write', async () => {
    expect(await readyz({})).toEqual({
      status: 200,
      body: { status: 'ready', engine: 'offline', store: 'sqlite' },
    });
  });

  it('reports a store that cannot write with its reason', async () => {
    const full = await readyz({ store: () => Promise.reject(new StoreFullError('disk full')) });
    expect(full).toEqual({ status: 503, body: { status: 'not_ready', reason: 'store_full' } });
    const corrupt = await readyz({
      store: () => Promise.reject(new StoreCorruptError('/d/earshot.db', 'quick_check')),
    });
    expect(corrupt.body).toEqual({ status: 'not_ready', reason: 'store_corrupt' });
  });

  it('answers 503 timeout instead of waiting for a store or engine that never answers', async () => {
    const stuck = () => new Promise<void>(() => undefined);
    expect(await readyz({ store: stuck })).toEqual({
      status: 503,
      body: { status: 'not_ready', reason: 'timeout' },
    });
    expect((await readyz({ engine: stuck })).body).toEqual({ status: 'not_ready', reason: 'timeout' });
  });
});

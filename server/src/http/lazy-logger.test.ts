import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { captureLog, LEVEL, type CapturedLog, type LogLine } from '../../test/support/log-capture.js';
import { lazyChildLogger } from './lazy-logger.js';

const apps: FastifyInstance[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.close()));
});

/** A real Fastify app on loopback with request.log made by lazyChildLogger, counting the pino children made. */
async function appLogging(
  log: CapturedLog,
): Promise<{ url: string; children: () => number; lines: () => LogLine[] }> {
  const children = vi.spyOn(log.logger, 'child');
  // Typed as Fastify's base logger (as app.ts does), so the instance has Fastify's default type parameters.
  const loggerInstance: FastifyBaseLogger = log.logger;
  const app = Fastify({
    loggerInstance,
    disableRequestLogging: true,
    childLoggerFactory: lazyChildLogger,
  });
  apps.push(app);
  app.get('/quiet', async () => 'ok');
  app.get('/twice', async (request) => {
    request.log.info({ step: 1 }, 'first');
    request.log.warn('second');
    return 'ok';
  });
  app.get('/debug', async (request) => {
    request.log.debug('detail');
    return 'ok';
  });
  app.get('/own-level', { logLevel: 'debug' }, async (request) => {
    request.log.debug('detail of a route at debug');
    return 'ok';
  });
  app.get('/nested', async (request) => {
    request.log.child({ part: 'inner' }).info('from a child of the request');
    return 'ok';
  });
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  // Whatever Fastify made and said while starting.
  children.mockClear();
  const startLines = log.lines().length;
  return { url, children: () => children.mock.calls.length, lines: () => log.lines().slice(startLines) };
}

async function get(url: string): Promise<{ status: number; id: string }> {
  const response = await fetch(url);
  await response.text();
  return { status: response.status, id: response.headers.get('request-id') ?? '' };
}

describe('lazyChildLogger', () => {
  it('makes no pino child for a request that does not log', async () => {
    const log = captureLog('info');
    const { url, children, lines } = await appLogging(log);
    for (let i = 0; i < 3; i++) expect((await get(`${url}/quiet`)).status).toBe(200);
    expect(children()).toBe(0);
    expect(lines()).toEqual([]);
  });

  it('makes one child at the first line, and every line of the request carries its id', async () => {
    const log = captureLog('info');
    const { url, children, lines } = await appLogging(log);
    await get(`${url}/twice`);
    await get(`${url}/twice`);
    expect(children()).toBe(2);
    const written = lines();
    expect(written.map((line) => [line.level, line.msg])).toEqual([
      [LEVEL.info, 'first'],
      [LEVEL.warn, 'second'],
      [LEVEL.info, 'first'],
      [LEVEL.warn, 'second'],
    ]);
    expect(written[0]).toMatchObject({ step: 1 });
    expect(written[0]!.reqId).toEqual(expect.any(String));
    expect(written[1]!.reqId).toBe(written[0]!.reqId);
    expect(written[2]!.reqId).not.toBe(written[0]!.reqId);
  });

  it('makes no child for a level the server does not write, and writes nothing', async () => {
    const log = captureLog('info');
    const { url, children, lines } = await appLogging(log);
    await get(`${url}/debug`);
    expect(children()).toBe(0);
    expect(lines()).toEqual([]);
  });

  it("writes at a route's own level (its child is made at once) and through a child of the request's logger", async () => {
    const log = captureLog('info');
    const { url, lines } = await appLogging(log);
    await get(`${url}/own-level`);
    await get(`${url}/nested`);
    const written = lines();
    expect(written.map((line) => [line.level, line.msg])).toEqual([
      [LEVEL.debug, 'detail of a route at debug'],
      [LEVEL.info, 'from a child of the request'],
    ]);
    expect(written[0]!.reqId).toEqual(expect.any(String));
    expect(written[1]).toMatchObject({ part: 'inner', reqId: expect.any(String) });
  });
});

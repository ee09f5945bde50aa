import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { lazySchemaCompilers } from './schema-compilers.js';

describe('Fastify schema compilers, loaded only when a route needs one', () => {
  it('a route that declares schemas still gets them checked and serialized', async () => {
    const app = Fastify({ schemaController: { compilersFactory: lazySchemaCompilers } });
    app.post(
      '/echo',
      {
        schema: {
          body: { type: 'object', properties: { n: { type: 'integer' } }, required: ['n'] },
          response: { 200: { type: 'object', properties: { n: { type: 'integer' } } } },
        },
      },
      async (request) => ({ ...(request.body as object), secret: 'not in the schema' }),
    );
    const refused = await app.inject({ method: 'POST', url: '/echo', payload: { n: 'one' } });
    expect(refused.statusCode).toBe(400);
    const answered = await app.inject({ method: 'POST', url: '/echo', payload: { n: 1 } });
    expect(answered.json()).toEqual({ n: 1 });
    await app.close();
  });
  // That a running Earshot loads neither: start-footprint.test.ts.
});

import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';

/** The player page and its assets (public: they hold no data; the key stays in the browser). */
export const PUBLIC_DIR = fileURLToPath(new URL('../../public', import.meta.url));

export async function registerStatic(app: FastifyInstance): Promise<void> {
  await app.register(fastifyStatic, {
    root: PUBLIC_DIR,
    prefix: '/',
    index: ['index.html'],
    cacheControl: true,
    maxAge: '5m',
    // Only what is in public/ is served; no directory listings, no dotfiles.
    dotfiles: 'deny',
  });
}

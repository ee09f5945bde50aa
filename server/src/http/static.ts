import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';

/**
 * The built console. In the repo `npm run build` writes web/dist, three levels above both server/src/http
 * (tests, tsx) and server/dist/http (the compiled server). The published package bundles the server into one
 * folder, dist/, with the console copied to dist/console (scripts/pack.mjs).
 */
export const CONSOLE_DIR = fileURLToPath(
  [new URL('../../../web/dist', import.meta.url), new URL('./console', import.meta.url)].find((url) =>
    existsSync(url),
  ) ?? new URL('../../../web/dist', import.meta.url),
);

const NOT_BUILT_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Earshot: console not built</title></head>
<body><h1>The Earshot console is not built</h1>
<p>The server is running, but the web console has not been built. Run <code>npm run build</code> (or
<code>npm start</code>, which builds first) in the Earshot folder, then reload this page.</p>
<p>Agents can already use <code>/mcp</code>; the REST API is under <code>/api/v1</code>.</p></body></html>
`;

/** Serves the console (public: it holds no data; the key stays in the browser). */
export async function registerStatic(app: FastifyInstance, consoleDir = CONSOLE_DIR): Promise<void> {
  if (!existsSync(consoleDir)) {
    app.get('/', async (_request, reply) =>
      reply.code(503).type('text/html; charset=utf-8').header('retry-after', '60').send(NOT_BUILT_PAGE),
    );
    return;
  }
  await app.register(fastifyStatic, {
    root: consoleDir,
    prefix: '/',
    index: ['index.html'],
    // Hashed assets never change; index.html and config.json are revalidated.
    cacheControl: false,
    setHeaders: (reply, path) => {
      const immutable = /[\\/]assets[\\/]/.test(path);
      reply.header('cache-control', immutable ? 'public, max-age=31536000, immutable' : 'no-cache');
    },
    // Only what is in web/dist is served; no directory listings, no dotfiles.
    dotfiles: 'deny',
  });
}

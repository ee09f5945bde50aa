import type { HttpInput } from '../inputs.js';
import type { Rng } from '../prng.js';
import {
  authHeaders,
  hostAndOrigin,
  mutateMethod,
  mutatePath,
  pickUser,
  REQUEST_DEADLINE_MS,
} from './common.js';

/** The console files, health checks and paths that try to climb out of web/dist. */
const PUBLIC_PATHS = [
  '/',
  '/index.html',
  '/config.json',
  '/favicon.svg',
  '/assets/',
  '/assets/missing.js',
  '/assets/../../package.json',
  '/assets/%2e%2e/%2e%2e/package.json',
  '/%2e%2e/%2e%2e/%2e%2e/etc/passwd',
  '/..%2f..%2f..%2fetc%2fpasswd',
  '/.env',
  '/.git/config',
  '/index.html/',
  '/index.html%00.js',
  '/web/dist/index.html',
  '/server/dist/cli/main.js',
  '/healthz',
  '/readyz',
  '/healthz/',
  '/HEALTHZ',
  '/readyz?verbose=1',
  '/ws',
  '/mcp',
  '/api',
  '/api/',
  '/api/v1',
  '/api/v2/settings',
  '/.well-known/oauth-protected-resource',
  '/.well-known/oauth-authorization-server',
];

export function publicInput(rng: Rng): HttpInput {
  const path = rng.pick(PUBLIC_PATHS);
  const mutated = rng.chance(0.3) ? mutatePath(rng, path) : path;
  const method = rng.chance(0.8) ? 'GET' : mutateMethod(rng);
  const place = hostAndOrigin(rng);
  const headers: [string, string][] = [
    ...(rng.chance(0.3) ? authHeaders(rng, pickUser(rng), 0.5) : []),
    ...place.headers,
  ];
  if (method === 'OPTIONS' && rng.chance(0.7)) {
    headers.push(['Access-Control-Request-Method', rng.pick(['POST', 'PUT', 'DELETE', 'PATCH'])]);
    headers.push([
      'Access-Control-Request-Headers',
      rng.pick(['authorization', 'content-type, x-evil', '*']),
    ]);
  }
  if (rng.chance(0.1))
    headers.push(['Range', rng.pick(['bytes=0-10', 'bytes=10-0', 'bytes=0-0,1-1,2-2', 'bytes=-0'])]);
  if (rng.chance(0.1))
    headers.push(['If-Modified-Since', rng.pick(['Thu, 01 Jan 1970 00:00:00 GMT', 'garbage'])]);
  return {
    kind: 'http',
    channel: /^\/(healthz|readyz)/i.test(path) ? 'health' : 'static',
    label: `public ${method} ${path}`,
    method,
    path: mutated,
    headers,
    deadlineMs: REQUEST_DEADLINE_MS,
  };
}

import type { UserName } from '../keys.js';
import type { HttpInput } from '../inputs.js';
import type { Rng } from '../prng.js';
import {
  authHeaders,
  contentTypeHeader,
  hostAndOrigin,
  mutateMethod,
  mutatePath,
  pickModel,
  pickUser,
  pickVoice,
  PLAYED_DEADLINE_MS,
  REQUEST_DEADLINE_MS,
  SPEECH_DEADLINE_MS,
  voiceSettings,
  type World,
} from './common.js';
import { jsonBytes, mutateObject, speechText, weirdString, weirdValue } from './values.js';

interface Valid {
  readonly method: string;
  readonly path: string;
  readonly body?: Record<string, unknown>;
  /** Produces speech (or may): it waits in a queue, so it gets the speech deadline. */
  readonly speech?: boolean;
  readonly played?: boolean;
}

type RouteBuilder = (rng: Rng, world: World, user: UserName) => Valid;

/** Every REST route in server/src/http/rest.ts, with a valid request for each; weights favour depth. */
const ROUTES: readonly (readonly [number, RouteBuilder])[] = [
  [
    2,
    (rng) => ({
      method: 'GET',
      path: `/api/v1/voices${query(rng, { search: () => rng.pick(['male', 'Sally', 'scot', '']) })}`,
    }),
  ],
  [1, () => ({ method: 'GET', path: '/api/v1/models' })],
  [
    1,
    (rng) => ({
      method: 'GET',
      path: `/api/v1/library${query(rng, {
        search: () => rng.pick(['calm', 'narrator', '']),
        gender: () => rng.pick(['female', 'male', 'neutral']),
        language: () => rng.pick(['en', 'de', 'ja']),
        page_size: () => String(rng.int(1, 100)),
        page: () => String(rng.int(0, 3)),
      })}`,
    }),
  ],
  [2, () => ({ method: 'GET', path: '/api/v1/settings' })],
  [
    3,
    (rng, world, user) => ({
      method: 'PUT',
      path: '/api/v1/settings',
      body: settingsPatch(rng, world, user),
    }),
  ],
  [14, (rng, world) => speakRequest(rng, world)],
  [2, () => ({ method: 'POST', path: '/api/v1/stop' })],
  [
    3,
    (rng) => ({
      method: 'GET',
      path: `/api/v1/history${query(rng, {
        limit: () => String(rng.int(1, 200)),
        search: () => rng.pick(['build', 'the', 'x']),
        // Fixed instants (not the clock) so that an input is the same whenever it is generated.
        before: () =>
          rng.pick(['2099-01-01T00:00:00.000Z', '2020-01-01T00:00:00Z', '2026-06-01', 'yesterday', '0']),
      })}`,
    }),
  ],
  [3, (rng) => ({ method: 'GET', path: `/api/v1/history/${historyId(rng)}` })],
  [3, (rng) => ({ method: 'GET', path: `/api/v1/history/${historyId(rng)}/audio` })],
  [3, (rng) => ({ method: 'POST', path: `/api/v1/history/${historyId(rng)}/replay`, speech: true })],
  [1, (rng) => ({ method: 'DELETE', path: `/api/v1/history/${historyId(rng)}` })],
  [
    2,
    (rng) => ({ method: 'GET', path: `/api/v1/usage${query(rng, { days: () => String(rng.int(1, 366)) })}` }),
  ],
];

/** Percent-encodes the UTF-8 bytes of any string (encodeURIComponent throws on lone surrogates). */
export function percentEncode(value: string): string {
  return [...Buffer.from(value, 'utf8')]
    .map((byte) =>
      /[A-Za-z0-9\-_.~]/.test(String.fromCharCode(byte))
        ? String.fromCharCode(byte)
        : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`,
    )
    .join('');
}

function query(rng: Rng, params: Record<string, () => string>): string {
  const parts = Object.entries(params)
    .filter(() => rng.chance(0.4))
    .map(([name, value]) => `${name}=${percentEncode(value())}`);
  return parts.length > 0 ? `?${parts.join('&')}` : '';
}

/** Mostly a real id seen earlier in the run; sometimes one that cannot exist. */
function historyId(rng: Rng): string {
  return rng.weighted<string>([
    [8, `{{hid:${rng.int(0, 1_000_000)}}}`],
    [1, `sp_${rng.bytes(9).toString('base64url').slice(0, 12)}`],
    [1, rng.pick(['..%2f..%2fsettings', '%00', 'sp_', 'x'.repeat(300), '%F0%9F%98%80', 'null'])],
  ]);
}

function speakRequest(rng: Rng, world: World): Valid {
  const body: Record<string, unknown> = { text: speechText(rng) };
  if (rng.chance(0.3)) body.voice = pickVoice(rng, world);
  if (rng.chance(0.15)) body.model = pickModel(rng, world);
  if (rng.chance(0.2)) body.settings = voiceSettings(rng);
  if (rng.chance(0.2)) body.fresh = rng.chance(0.5);
  if (rng.chance(0.2)) body.play = rng.chance(0.7);
  if (rng.chance(0.2)) body.source = rng.pick(['console', 'cli', 'api']);
  const played = rng.chance(0.05);
  if (played) body.wait = 'played';
  else if (rng.chance(0.1)) body.wait = 'generated';
  return { method: 'POST', path: '/api/v1/speak', body, speech: true, played };
}

/**
 * Settings that keep alice and bob speaking; only mallory gets the ones that refuse her own speech
 * (a zero daily limit, audio not kept), so they cannot starve the rest of the run.
 */
function settingsPatch(rng: Rng, world: World, user: UserName): Record<string, unknown> {
  const patch: Record<string, unknown> = {};
  if (rng.chance(0.4)) patch.defaultVoice = rng.chance(0.8) ? pickVoice(rng, world) : null;
  if (rng.chance(0.2)) patch.defaultModel = rng.chance(0.8) ? pickModel(rng, world) : null;
  if (rng.chance(0.3)) patch.voiceSettings = voiceSettings(rng);
  if (rng.chance(0.2)) patch.autoPlay = rng.chance(0.5);
  if (user === 'mallory') {
    if (rng.chance(0.3)) patch.saveAudio = rng.chance(0.5);
    if (rng.chance(0.3)) patch.dailyCharLimit = rng.pick([0, 1, 50, 100_000, null]);
  } else {
    if (rng.chance(0.2)) patch.saveAudio = true;
    if (rng.chance(0.2)) patch.dailyCharLimit = rng.pick([null, 10_000_000]);
  }
  return patch;
}

/**
 * A REST input: a valid request for a random route, then nothing (most often), one mutation, or several.
 * Bodies that claim more bytes than they send are left to the slow-socket scenario, where waiting is
 * the point; every fuzz request here is complete.
 */
export function restInput(rng: Rng, world: World): HttpInput {
  const user = pickUser(rng);
  const valid = rng.weighted(ROUTES)(rng, world, user);
  const mode = rng.weighted<'valid' | 'one' | 'many' | 'cross-site'>([
    [5, 'valid'],
    [4, 'one'],
    [1, 'many'],
    [0.3, 'cross-site'],
  ]);
  if (mode === 'cross-site') return crossSite(rng, user, valid);
  let method = valid.method;
  let path = valid.path;
  let headers: [string, string][] = authHeaders(rng, user, mode === 'valid' ? 1 : 0.85);
  let body: Buffer | string | undefined = valid.body === undefined ? undefined : JSON.stringify(valid.body);
  let contentType: [string, string][] = body === undefined ? [] : [['Content-Type', 'application/json']];
  const place = hostAndOrigin(rng);
  let foreignOrigin = false;
  let label = `rest ${valid.method} ${valid.path.split('?')[0]!.replace(/\/(\{\{hid:\d+\}\}|sp_\w+)/, '/:id')}`;

  const mutations = mode === 'valid' ? 0 : mode === 'one' ? 1 : rng.int(2, 4);
  for (let i = 0; i < mutations; i++) {
    const kind = rng.weighted<string>([
      [valid.body ? 6 : 0, 'body'],
      [2, 'query'],
      [2, 'path'],
      [1, 'method'],
      [2, 'place'],
      [2, 'content-type'],
      [1, 'headers'],
    ]);
    label += ` +${kind}`;
    if (kind === 'body' && valid.body) {
      body = rng.chance(0.6)
        ? jsonBytes(rng, mutateObject(rng, valid.body), 0.2)
        : jsonBytes(rng, valid.body, 1);
    } else if (kind === 'query') {
      path += `${path.includes('?') ? '&' : '?'}${rng.pick(['limit', 'days', 'search', 'before', 'page_size', 'page', 'x'])}=${percentEncode(String(weirdValue(rng)))}`;
    } else if (kind === 'path') {
      path = mutatePath(rng, path);
    } else if (kind === 'method') {
      method = mutateMethod(rng);
    } else if (kind === 'place') {
      headers = [...headers, ...place.headers];
      foreignOrigin = place.foreignOrigin;
    } else if (kind === 'content-type') {
      contentType = contentTypeHeader(rng);
      if (body === undefined) body = JSON.stringify(weirdValue(rng));
    } else {
      headers = [...headers, ...extraHeaders(rng)];
    }
  }
  return {
    kind: 'http',
    channel: 'rest',
    label,
    user,
    method,
    path,
    headers: [...headers, ...contentType],
    ...(body === undefined ? {} : { body }),
    deadlineMs: valid.played ? PLAYED_DEADLINE_MS : valid.speech ? SPEECH_DEADLINE_MS : REQUEST_DEADLINE_MS,
    ...(foreignOrigin ? { foreignOrigin } : {}),
  };
}

/** Headers that proxies, loggers or Fastify treat specially. */
function extraHeaders(rng: Rng): [string, string][] {
  return rng.weighted<() => [string, string][]>([
    [2, () => [['X-Request-Id', rng.chance(0.5) ? weirdString(rng).slice(0, 2000) : 'req-1']]],
    [1, () => [['Accept', rng.pick(['*/*', 'text/html', 'application/xml', '', 'audio/*;q=0.1'])]]],
    [1, () => [['Accept-Encoding', rng.pick(['gzip', 'br, zstd', 'identity;q=0', '*'])]]],
    [1, () => [['Range', rng.pick(['bytes=0-10', 'bytes=-1', 'bytes=99999999-', 'bytes=5-1', 'lines=1'])]]],
    [1, () => [['X-Forwarded-For', '1.2.3.4, 127.0.0.1']]],
    [1, () => [['X-Forwarded-Host', 'evil.example']]],
    [1, () => [['Expect', '100-continue']]],
    [1, () => [['If-None-Match', '*']]],
    [
      1,
      () =>
        Array.from({ length: rng.int(10, 90) }, (_, n): [string, string] => [
          `X-Filler-${n}`,
          'v'.repeat(100),
        ]),
    ],
    [1, () => [['X-Big', 'b'.repeat(rng.pick([4_000, 15_000, 20_000]))]]],
  ])();
}

/**
 * A browser on another site calling the API with the user's key (a page that learnt it, or auth turned
 * off), the path spelt so a router and a security hook might disagree: must never answer 2xx.
 */
function crossSite(rng: Rng, user: UserName, valid: Valid): HttpInput {
  const path = rng.chance(0.7)
    ? valid.path.replace(/^\/(a|m)/, (_, c: string) => `/%${c.charCodeAt(0).toString(16)}`)
    : mutatePath(rng, valid.path);
  return {
    kind: 'http',
    channel: 'rest',
    label: `rest cross-site ${valid.method} ${valid.path.split('?')[0]!.replace(/\/(\{\{hid:\d+\}\}|sp_\w+)/, '/:id')}`,
    user,
    method: valid.method,
    path,
    headers: [
      ['Authorization', `Bearer {{key:${user}}}`],
      ['Origin', rng.pick(['http://evil.example', 'null', 'http://localhost:1'])],
      ...(valid.body === undefined ? [] : ([['Content-Type', 'application/json']] as [string, string][])),
    ],
    ...(valid.body === undefined ? {} : { body: JSON.stringify(valid.body) }),
    deadlineMs: valid.played ? PLAYED_DEADLINE_MS : valid.speech ? SPEECH_DEADLINE_MS : REQUEST_DEADLINE_MS,
    foreignOrigin: true,
  };
}

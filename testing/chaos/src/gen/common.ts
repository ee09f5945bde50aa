import { FUZZ_USERS, type UserName } from '../keys.js';
import type { Rng } from '../prng.js';

/** What the generators may know about the server under test (read once per scenario, so stable). */
export interface World {
  readonly engine: 'offline' | 'elevenlabs';
  readonly voices: readonly { readonly id: string; readonly name: string }[];
  readonly models: readonly string[];
  readonly tools: readonly ToolInfo[];
}

export interface ToolInfo {
  readonly name: string;
  readonly inputSchema: JsonSchema;
}

export interface JsonSchema {
  readonly type?: string | readonly string[];
  readonly properties?: Readonly<Record<string, JsonSchema>>;
  readonly required?: readonly string[];
  readonly items?: JsonSchema;
  readonly enum?: readonly unknown[];
  readonly anyOf?: readonly JsonSchema[];
  readonly minimum?: number;
  readonly maximum?: number;
  readonly minLength?: number;
  readonly maxLength?: number;
  readonly minItems?: number;
  readonly maxItems?: number;
}

/** A request answers within this, or it hangs. Generous: the loop may be busy with Flite or big bodies. */
export const REQUEST_DEADLINE_MS = 10_000;
/**
 * Speech waits in its user's queue and shares one synthesis worker with every other user; at the suite's
 * concurrency a short speech finishes in well under a second, so 30 s means stuck, not slow.
 */
export const SPEECH_DEADLINE_MS = 30_000;
/** `wait: "played"` may also wait the server's played grace (15 s) past the audio's length. */
export const PLAYED_DEADLINE_MS = 60_000;

/** alice and bob get most traffic; mallory's settings are abused, so her speech is often refused. */
export function pickUser(rng: Rng): UserName {
  return rng.weighted<UserName>([
    [4, FUZZ_USERS[0]],
    [4, FUZZ_USERS[1]],
    [2, FUZZ_USERS[2]],
  ]);
}

export function pickVoice(rng: Rng, world: World): string {
  const voice = world.voices.length > 0 ? rng.pick(world.voices) : { id: 'slt', name: 'Sally' };
  return rng.weighted<string>([
    [4, voice.id],
    [2, voice.name],
    [1, voice.name.toUpperCase()],
    [1, rng.pick(['nobody', 'Rachel', '21m00Tcm4TlvDq8ikWAM', 'slt ', ' Sally'])],
  ]);
}

export function pickModel(rng: Rng, world: World): string {
  return rng.weighted<string>([
    [4, world.models.length > 0 ? rng.pick(world.models) : 'flite'],
    [1, rng.pick(['eleven_v3', 'eleven_flash_v2_5', 'eleven_multilingual_v2', 'no_such_model', 'flite'])],
  ]);
}

export function voiceSettings(rng: Rng): Record<string, unknown> {
  const settings: Record<string, unknown> = {};
  if (rng.chance(0.4)) settings.stability = rng.float();
  if (rng.chance(0.3)) settings.similarity_boost = rng.float();
  if (rng.chance(0.2)) settings.style = rng.float();
  if (rng.chance(0.2)) settings.use_speaker_boost = rng.chance(0.5);
  // Fast speech is cheap to synthesise; slow speech (0.7) makes more audio per character.
  if (rng.chance(0.4)) settings.speed = rng.pick([0.7, 0.9, 1, 1.1, 1.2]);
  return settings;
}

/** Authorization header variants; most are the user's valid key, since that reaches the deep code. */
export function authHeaders(rng: Rng, user: UserName, validShare: number): [string, string][] {
  if (rng.chance(validShare)) {
    return [
      [
        'Authorization',
        rng.pick([`Bearer {{key:${user}}}`, `bearer {{key:${user}}}`, `Bearer  {{key:${user}}} `]),
      ],
    ];
  }
  return rng.weighted<() => [string, string][]>([
    [3, () => []],
    [3, () => [['Authorization', `Bearer esk_${rng.bytes(24).toString('base64url')}`]]],
    [1, () => [['Authorization', 'Bearer']]],
    [1, () => [['Authorization', 'Bearer ']]],
    [1, () => [['Authorization', `Basic {{key:${user}}}`]]],
    [1, () => [['Authorization', `{{key:${user}}}`]]],
    [1, () => [['Authorization', `Token {{key:${user}}}`]]],
    [1, () => [['Authorization', `Bearer {{key:${user}}} extra`]]],
    [1, () => [['Authorization', `Bearer ${'A'.repeat(rng.pick([1024, 8000, 15_000]))}`]]],
    [1, () => [['Authorization', 'Bearer ключ😀']]],
    [
      1,
      () => [
        ['Authorization', `Bearer {{key:${user}}}`],
        ['Authorization', 'Bearer wrong'],
      ],
    ],
    [1, () => [['X-Api-Key', `{{key:${user}}}`]]],
    [1, () => [['Cookie', `key={{key:${user}}}`]]],
  ])();
}

/** Host and Origin: usually none or our own; sometimes a rebinding Host or a cross-site Origin. */
export function hostAndOrigin(rng: Rng): { headers: [string, string][]; foreignOrigin: boolean } {
  const headers: [string, string][] = [];
  let foreignOrigin = false;
  rng.weighted<() => void>([
    [20, () => undefined],
    [
      1,
      () =>
        headers.push([
          'Host',
          rng.pick(['localhost', 'evil.example', '127.0.0.1.evil.example', '[::1]', '']),
        ]),
    ],
    [0.5, () => headers.push(['Host', '{{host}}'], ['Host', 'evil.example'])],
  ])();
  rng.weighted<() => void>([
    [12, () => undefined],
    [3, () => headers.push(['Origin', '{{origin}}'])],
    [
      2,
      () => {
        foreignOrigin = true;
        headers.push([
          'Origin',
          rng.pick([
            'http://evil.example',
            'null',
            'http://localhost:1',
            'file://',
            'chrome-extension://abc',
            '%%%',
            '',
          ]),
        ]);
      },
    ],
  ])();
  return { headers, foreignOrigin };
}

/** Path spellings that routers, static servers and security hooks may disagree about. */
export function mutatePath(rng: Rng, path: string): string {
  const [pathname = '', query] = path.split('?', 2);
  const withQuery = (p: string) => (query === undefined ? p : `${p}?${query}`);
  return rng.weighted<() => string>([
    [3, () => withQuery(pathname.replace(/[a-z]/, (c) => `%${c.charCodeAt(0).toString(16)}`))],
    [1, () => withQuery(pathname.replace(/[a-z]/, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`))],
    [2, () => withQuery(pathname.replace(/\//g, () => (rng.chance(0.3) ? '//' : '/')))],
    [2, () => withQuery(pathname.replace(/\/([^/]+)$/, '/../$1').replace(/^\/api\/v1\//, '/api/v1/x/'))],
    [1, () => withQuery(pathname.replace(/\//, '/./'))],
    [1, () => withQuery(pathname.replace(/\/(?=[^/]*$)/, '%2F'))],
    [1, () => withQuery(`${pathname}/`)],
    [1, () => withQuery(pathname.toUpperCase())],
    [1, () => withQuery(`${pathname}%00`)],
    [1, () => withQuery(`${pathname};jsessionid=1`)],
    [1, () => withQuery(pathname.replace(/\//g, '\\'))],
    [1, () => withQuery(`${pathname}/${'é'.repeat(rng.int(1, 8))}`)],
    [1, () => withQuery(`${pathname}%ZZ`)],
    [1, () => withQuery(`${pathname}${'/a'.repeat(rng.pick([100, 3000, 9000]))}`)],
    [
      1,
      () =>
        `${pathname}?${'q='.repeat(rng.int(1, 5))}${'%'.repeat(rng.int(0, 3))}&__proto__[x]=1&limit=1&limit=2`,
    ],
    [1, () => `${pathname}#frag`],
    [1, () => `http://evil.example${path}`],
    [0.5, () => '*'],
  ])();
}

export function contentTypeHeader(rng: Rng): [string, string][] {
  return rng.weighted<() => [string, string][]>([
    [20, () => [['Content-Type', 'application/json']]],
    [2, () => []],
    [1, () => [['Content-Type', 'application/json; charset=utf-8']]],
    [1, () => [['Content-Type', 'application/json; charset=utf-16']]],
    [1, () => [['Content-Type', 'text/plain']]],
    [1, () => [['Content-Type', 'application/x-www-form-urlencoded']]],
    [1, () => [['Content-Type', 'multipart/form-data; boundary=x']]],
    [1, () => [['Content-Type', 'application/vnd.api+json']]],
    [1, () => [['Content-Type', 'APPLICATION/JSON;;;']]],
    [
      1,
      () => [
        ['Content-Type', 'application/json'],
        ['Content-Type', 'text/plain'],
      ],
    ],
  ])();
}

/** Methods, including ones the router has no route for and ones Node's parser refuses. */
export function mutateMethod(rng: Rng): string {
  return rng.pick([
    'GET',
    'POST',
    'PUT',
    'DELETE',
    'PATCH',
    'HEAD',
    'OPTIONS',
    'TRACE',
    'FOO',
    'get',
    'PROPFIND',
  ]);
}

import type { Rng } from '../prng.js';

/**
 * Building blocks for inputs: texts worth speaking, hostile strings and values, and mutations of valid JSON.
 * Valid values dominate on purpose: an input rejected by the first schema check exercises little.
 */

/** Short phrases repeat, so many speeches hit the replay cache (a path of its own). */
const PHRASES = [
  'Done.',
  'The build passed.',
  'Tests are green; ready for review.',
  'I need your input on the migration.',
  'Deploy finished in four minutes.',
  'Heads up: the linter found three problems.',
  'Question: should I delete the old branch?',
];

const WORDS =
  'the a build test passed failed review merge branch deploy error warning done ready quick summary of diff file'.split(
    ' ',
  );

/** Text for a speech that should succeed: mostly short, sometimes a paragraph, rarely long. */
export function speechText(rng: Rng): string {
  return rng.weighted<() => string>([
    [5, () => rng.pick(PHRASES)],
    [4, () => sentence(rng, rng.int(1, 20))],
    [0.6, () => Array.from({ length: rng.int(2, 8) }, () => sentence(rng, rng.int(5, 15))).join(' ')],
    [0.05, () => Array.from({ length: rng.int(10, 20) }, () => sentence(rng, rng.int(8, 14))).join(' ')],
  ])();
}

function sentence(rng: Rng, words: number): string {
  const text = Array.from({ length: words }, () => rng.pick(WORDS)).join(' ');
  return `${text.charAt(0).toUpperCase()}${text.slice(1)}${rng.pick(['.', '?', '!', '…', ''])}`;
}

/** Strings that have broken parsers, loggers, path handling and encoders elsewhere. */
export function weirdString(rng: Rng): string {
  return rng.weighted<() => string>([
    [3, () => ''],
    [2, () => ' \t\n '],
    [
      3,
      () => rng.pick(['null', 'undefined', 'NaN', '0', '-1', 'true', '[]', '{}', '__proto__', 'constructor']),
    ],
    [
      3,
      () =>
        rng.pick(['../../etc/passwd', '..\\..\\boot.ini', '/dev/zero', 'C:\\con', 'earshot://history/../x']),
    ],
    [
      2,
      () =>
        rng.pick([
          '%00',
          '\u0000',
          'a\u0000b',
          '%n%s%x',
          '${jndi:ldap://x}',
          '{{7*7}}',
          "'; DROP TABLE x;--",
        ]),
    ],
    [
      2,
      () =>
        rng.pick(['<script>alert(1)</script>', '"><img src=x onerror=alert(1)>', '\u001b[31mred\u001b[0m']),
    ],
    [
      3,
      () =>
        rng.pick([
          '😀🎉',
          'Ünïcödé',
          '漢字かな',
          'مرحبا',
          '\u202eRTL',
          'e\u0301\u0301\u0301',
          '\u200b\ufeff',
        ]),
    ],
    [2, () => rng.pick(['\ud800', '\udfff', 'a\ud83d', '\uffff\ufffe'])], // lone surrogates, non-characters
    [3, () => 'x'.repeat(rng.pick([64, 65, 100, 101, 129, 1000, 5001, 40_000]))],
    [1, () => 'w'.repeat(rng.int(100_000, 480_000))], // huge, under the 512 KiB body limit
    [2, () => rng.bytes(rng.int(1, 64)).toString('latin1')],
    [1, () => 'esk_' + 'A'.repeat(32)], // key-shaped but not a key
  ])();
}

/** Any JSON value, hostile more often than not. */
export function weirdValue(rng: Rng, depth = 0): unknown {
  const leaf = (): unknown =>
    rng.weighted<() => unknown>([
      [2, () => null],
      [2, () => rng.chance(0.5)],
      [
        3,
        () => rng.pick([0, -0, -1, 1, 0.5, 1e308, -1e308, 2 ** 53 + 1, 1e-320, 0.7, 1.2, 1.21, 100_000_001]),
      ],
      [5, () => weirdString(rng)],
    ])();
  if (depth > 3) return leaf();
  return rng.weighted<() => unknown>([
    [8, leaf],
    [1, () => Array.from({ length: rng.int(0, 4) }, () => weirdValue(rng, depth + 1))],
    [
      1,
      () =>
        Object.fromEntries(
          Array.from({ length: rng.int(0, 4) }, () => [
            rng.pick(['a', 'text', '__proto__', '']),
            weirdValue(rng, depth + 1),
          ]),
        ),
    ],
  ])();
}

/** JSON text nested `depth` levels deep (stack depth of recursive parsers, validators and loggers). */
export function deeplyNested(rng: Rng, depth: number): string {
  const open = rng.chance(0.5) ? '['.repeat(depth) : '{"a":'.repeat(depth);
  const close = open.startsWith('[') ? ']'.repeat(depth) : '}'.repeat(depth);
  return `${open}1${close}`;
}

/**
 * One structural mutation of an object that was valid: a field dropped, retyped, added, or nested.
 * Returns a new object; the original is not touched.
 */
export function mutateObject(rng: Rng, value: Record<string, unknown>): Record<string, unknown> {
  const copy: Record<string, unknown> = { ...value };
  const keys = Object.keys(copy);
  const key = keys.length > 0 ? rng.pick(keys) : 'text';
  rng.weighted<() => void>([
    [3, () => delete copy[key]],
    [5, () => (copy[key] = weirdValue(rng))],
    [2, () => (copy[rng.pick(['extra', 'Text', 'TEXT', 'text ', 'voice_id', 'proto'])] = weirdValue(rng))],
    [1, () => (copy[key] = { nested: copy[key] })],
    [1, () => (copy[key] = [copy[key]])],
    [1, () => (copy[key] = JSON.stringify(copy[key] ?? null))],
    [1, () => Object.defineProperty(copy, '__proto__', { value: { polluted: true }, enumerable: true })],
  ])();
  return copy;
}

/** Serialises `value`, sometimes damaging the text: truncated, invalid UTF-8, BOM, duplicate keys. */
export function jsonBytes(rng: Rng, value: unknown, damage: number): Buffer {
  const text = JSON.stringify(value) ?? 'null';
  if (!rng.chance(damage)) return Buffer.from(text, 'utf8');
  return rng.weighted<() => Buffer>([
    [3, () => Buffer.from(text.slice(0, rng.int(0, Math.max(0, text.length - 1))), 'utf8')],
    [
      3,
      () => {
        const at = rng.int(0, text.length);
        const bad = rng.pick([[0xff], [0xc3], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xc0, 0xaf]]);
        return Buffer.concat([Buffer.from(text.slice(0, at)), Buffer.from(bad), Buffer.from(text.slice(at))]);
      },
    ],
    [1, () => Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text)])],
    [1, () => Buffer.from(text.replace(/^\{/, '{"text":1,"text":"dup",'), 'utf8')],
    [1, () => Buffer.from(`${text}${rng.pick(['}', ']', ',', ' garbage', '\u0000', '\n{}'])}`, 'utf8')],
    [1, () => Buffer.from(text.replace(/"/g, "'"), 'utf8')],
    [1, () => Buffer.from(rng.pick(['', ' ', 'null', '0', '"x"', '[]', 'true', '{', 'NaN', 'Infinity']))],
    [0.5, () => Buffer.from(deeplyNested(rng, rng.pick([100, 1_000, 10_000, 100_000])))],
    [0.5, () => Buffer.from(text, 'utf16le')],
  ])();
}

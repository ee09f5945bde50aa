import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { VoiceEngine } from '../../engines/index.js';
import { plainSpeakArgs, speakArgsShape } from './speak.js';

const MAX = 50;
const schema = z.object(
  speakArgsShape({ maxTextLength: MAX, engine: { name: 'elevenlabs' } as VoiceEngine }),
);
const absent = Symbol('absent');

const TEXTS: unknown[] = [
  absent,
  'Hi.',
  '',
  ' ',
  'x'.repeat(MAX),
  'x'.repeat(MAX + 1),
  '€'.repeat(MAX),
  7,
  null,
];
const VOICES: unknown[] = [absent, 'Rachel', '', 'v'.repeat(100), 'v'.repeat(101), 7, null];
const MODELS: unknown[] = [absent, 'eleven_flash_v2_5', 'm'.repeat(101), false];
const WAITS: unknown[] = [absent, 'generated', 'played', 'PLAYED', 1];
const FRESH: unknown[] = [absent, true, false, 'true', 0];
const EXTRA: Record<string, unknown>[] = [
  {},
  { settings: { stability: 0.5 } },
  { settings: {} },
  { language: 'de' },
  { other: 1 },
  { voice_id: 'x' },
  { text2: undefined },
];

function* argsCorpus(): Generator<unknown> {
  for (const text of TEXTS)
    for (const voice of VOICES)
      for (const model of MODELS)
        for (const wait of WAITS)
          for (const fresh of FRESH)
            for (const extra of EXTRA) {
              const args: Record<string, unknown> = { ...extra };
              for (const [key, value] of Object.entries({ text, voice, model, wait, fresh }))
                if (value !== absent) args[key] = value;
              yield args;
            }
  yield* [null, [], ['Hi.'], 'Hi.', 7, Object.create(null) as unknown, { text: 'Hi.', voice: undefined }];
}

describe('plainSpeakArgs (speak arguments read by hand on the way to the first audio)', () => {
  it('gives exactly what the schema gives for everything it takes, and leaves the rest to it', () => {
    let taken = 0;
    let left = 0;
    for (const args of argsCorpus()) {
      const quick = plainSpeakArgs(args, MAX);
      if (quick === undefined) {
        left++;
        continue;
      }
      taken++;
      const parsed = schema.safeParse(args);
      expect({ args, success: parsed.success }).toEqual({ args, success: true });
      expect(quick).toStrictEqual(parsed.data);
    }
    expect(taken).toBeGreaterThan(200);
    expect(left).toBeGreaterThan(10_000);
  });

  it('takes the plain calls agents make', () => {
    expect(plainSpeakArgs({ text: 'Build finished.' }, MAX)).toStrictEqual({ text: 'Build finished.' });
    expect(plainSpeakArgs({ text: 'Done.', voice: 'Rachel', wait: 'played' }, MAX)).toStrictEqual({
      text: 'Done.',
      voice: 'Rachel',
      wait: 'played',
    });
    expect(plainSpeakArgs({ text: 'Done.', settings: { stability: 0.5 } }, MAX)).toBeUndefined();
  });
});

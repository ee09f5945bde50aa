import type { Model } from '@earshot/protocol';
import { z } from 'zod';
import { EarshotError } from '../errors.js';

/**
 * The ElevenLabs models that take `language_code` (ISO 639-1) on text to speech. Flash and Turbo v2.5 answer
 * 400 for a code outside their languages; Multilingual v2 and older models ignore it (they detect the language
 * from the text), so Earshot refuses it there rather than let the caller believe it was applied.
 */
export const LANGUAGE_CODE_MODELS: readonly string[] = [
  'eleven_flash_v2_5',
  'eleven_turbo_v2_5',
  'eleven_v3',
];

/** Made at first use: building it loads ICU's language names, ~20 ms that every start would pay for a rare field. */
let languageNames: Intl.DisplayNames | undefined;
const nameOf = (code: string): string | undefined =>
  (languageNames ??= new Intl.DisplayNames(['en'], { type: 'language', fallback: 'none' })).of(code);

/** A real two-letter ISO 639-1 code ("de", "ja"), lowercased; "xx" or "deu" are refused. */
export const LanguageSchema = z
  .string()
  .max(2, 'language must be a two-letter ISO 639-1 code, e.g. "de"')
  .regex(/^[A-Za-z]{2}$/, 'language must be a two-letter ISO 639-1 code, e.g. "de"')
  .transform((code) => code.toLowerCase())
  .refine(
    (code) => {
      const name = nameOf(code);
      return name !== undefined && name !== code;
    },
    {
      error: (issue) =>
        `"${String(issue.input)}" is not an ISO 639-1 language code; use two letters, e.g. "de"`,
    },
  );

/** "German (de)". */
export function languageName(code: string): string {
  return `${nameOf(code) ?? code} (${code})`;
}

/**
 * Refuses, before anything is spent, a language the engine and model cannot apply: the offline voice speaks
 * English only; on ElevenLabs only the models in LANGUAGE_CODE_MODELS take one, each for its own languages.
 */
export function checkLanguage(
  engine: 'elevenlabs' | 'offline',
  model: Model,
  language: string | undefined,
): void {
  if (language === undefined) return;
  if (engine === 'offline') {
    if (language === 'en') return;
    throw new EarshotError(
      'language_unsupported',
      `The offline voice speaks English only, not ${languageName(language)}. Leave language out (or use "en"), ` +
        'or start Earshot with ELEVENLABS_API_KEY for other languages.',
    );
  }
  if (!LANGUAGE_CODE_MODELS.includes(model.id)) {
    throw new EarshotError(
      'language_unsupported',
      `${model.id} does not take a language (it detects it from the text). Leave language out, or pick a model ` +
        `that takes one: ${LANGUAGE_CODE_MODELS.join(', ')}.`,
    );
  }
  if (model.languages && !model.languages.includes(language)) {
    throw new EarshotError(
      'language_unsupported',
      `${model.id} does not speak ${languageName(language)}. It speaks: ${model.languages.join(', ')}.`,
    );
  }
}

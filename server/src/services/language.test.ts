import type { Model } from '@earshot/protocol';
import { describe, expect, it } from 'vitest';
import { EarshotError } from '../errors.js';
import { checkLanguage, LanguageSchema } from './language.js';

const model = (id: string, languages?: string[]): Model => ({
  id,
  name: id,
  creditsPerCharacter: 1,
  ...(languages ? { languages } : {}),
});

function refusal(run: () => void): EarshotError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(EarshotError);
    return error as EarshotError;
  }
  throw new Error('accepted');
}

describe('language', () => {
  it('takes real two-letter ISO 639-1 codes, lowercased, and refuses anything else', () => {
    expect(LanguageSchema.parse('de')).toBe('de');
    expect(LanguageSchema.parse('JA')).toBe('ja');
    for (const bad of ['xx', 'qq', 'deu', 'd1', '', 'en-US', 'fil']) {
      expect(LanguageSchema.safeParse(bad).success, bad).toBe(false);
    }
  });

  it('lets the offline voice speak English only', () => {
    expect(() => checkLanguage('offline', model('flite'), 'en')).not.toThrow();
    expect(() => checkLanguage('offline', model('flite'), undefined)).not.toThrow();
    const error = refusal(() => checkLanguage('offline', model('flite'), 'de'));
    expect(error.code).toBe('language_unsupported');
    expect(error.message).toMatch(/English only, not German \(de\)/);
  });

  it('refuses a language on ElevenLabs models that do not take one, naming those that do', () => {
    const error = refusal(() => checkLanguage('elevenlabs', model('eleven_multilingual_v2'), 'de'));
    expect(error.code).toBe('language_unsupported');
    expect(error.message).toContain('eleven_flash_v2_5, eleven_turbo_v2_5, eleven_v3');
    expect(() => checkLanguage('elevenlabs', model('eleven_multilingual_v2'), undefined)).not.toThrow();
  });

  it("refuses a language outside the model's own list, when the engine gives one", () => {
    expect(() => checkLanguage('elevenlabs', model('eleven_flash_v2_5', ['en', 'de']), 'de')).not.toThrow();
    expect(() => checkLanguage('elevenlabs', model('eleven_v3'), 'fa')).not.toThrow();
    const error = refusal(() => checkLanguage('elevenlabs', model('eleven_turbo_v2_5', ['en', 'de']), 'fa'));
    expect(error.code).toBe('language_unsupported');
    expect(error.message).toMatch(/does not speak Persian \(fa\)\. It speaks: en, de\./);
  });
});

import { hash } from 'node:crypto';
import type { VoiceSettings } from '@earshot/protocol';

/** Identical requests (text, voice, model, settings with keys sorted, language) share a key. */
export function speechCacheKey(
  text: string,
  voiceId: string,
  modelId: string,
  settings: VoiceSettings,
  language?: string,
): string {
  const sortedSettings = Object.fromEntries(
    Object.entries(settings)
      .filter(([, value]) => value !== undefined)
      .sort(([a], [b]) => a.localeCompare(b)),
  );
  return hash(
    'sha256',
    // Without a language the key is what it was before languages existed, so stored audio still matches.
    JSON.stringify([text, voiceId, modelId, sortedSettings, ...(language ? [language] : [])]),
    'hex',
  ).slice(0, 32);
}

import { createHash } from 'node:crypto';
import type { VoiceSettings } from '@earshot/protocol';

/** Identical requests (text, voice, model, settings with keys sorted) share a key. */
export function speechCacheKey(
  text: string,
  voiceId: string,
  modelId: string,
  settings: VoiceSettings,
): string {
  const sortedSettings = Object.fromEntries(
    Object.entries(settings)
      .filter(([, value]) => value !== undefined)
      .sort(([a], [b]) => a.localeCompare(b)),
  );
  return createHash('sha256')
    .update(JSON.stringify([text, voiceId, modelId, sortedSettings]))
    .digest('hex')
    .slice(0, 32);
}

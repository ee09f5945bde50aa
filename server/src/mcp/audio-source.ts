import type { AudioUpload } from '../engines/studio.js';
import { EarshotError } from '../errors.js';
import { readStoredOpus } from '../services/stored-audio.js';
import { readWav } from './audio-output.js';
import type { ToolDeps } from './context.js';

/** The most one audio source may weigh when it is sent to ElevenLabs (their upload cap for these endpoints). */
export const SOURCE_MAX_BYTES = 25 * 1024 * 1024;

/** A `source` argument: earshot://history/ID, this server's audio link for it, or a bare history id. */
export const SOURCE_DESCRIPTION =
  "Earshot history audio: earshot://history/ID, this server's /api/v1/history/ID/audio link, or the bare id.";

/** The history id named by earshot://history/ID, this server's /api/v1/history/ID/audio, or a bare id. */
export function historyIdOf(source: string): string {
  const match =
    /^(?:earshot:\/\/history\/|https?:\/\/[^/]+\/api\/v1\/history\/)?([A-Za-z0-9_-]{1,64})(?:\/audio)?$/.exec(
      source.trim(),
    );
  if (!match) {
    throw new EarshotError(
      'invalid_input',
      "source must be earshot://history/ID, this server's audio link, or a history id.",
    );
  }
  return match[1]!;
}

/**
 * The caller's own stored audio named by `source`, ready to upload: stored Ogg Opus as it is (ElevenLabs
 * takes it, a tenth of the WAV's size), older PCM as WAV. Another user's id reads as not found.
 */
export async function readHistorySource(
  deps: Pick<ToolDeps, 'store'>,
  user: string,
  source: string,
  maxBytes = SOURCE_MAX_BYTES,
): Promise<AudioUpload & { readonly id: string; readonly durationMs: number }> {
  const id = historyIdOf(source);
  const item = await deps.store.getHistory(user, id);
  if (item?.audio && item.audio.bytes > maxBytes) {
    throw new EarshotError(
      'invalid_input',
      `The audio of "${id}" is over ${Math.round(maxBytes / 1024 / 1024)} MB; use a shorter clip.`,
    );
  }
  const opus = item ? await readStoredOpus(deps.store, user, item, maxBytes) : null;
  const wav = item && !opus ? await readWav(deps.store, user, item, maxBytes) : null;
  if (!item || (!opus && !wav)) {
    throw new EarshotError('not_found', `No stored audio for "${id}"; call list_history for ids.`);
  }
  return opus
    ? { id, durationMs: item.durationMs, audio: opus, fileName: `${id}.opus`, mimeType: 'audio/ogg' }
    : { id, durationMs: item.durationMs, audio: wav!, fileName: `${id}.wav`, mimeType: 'audio/wav' };
}

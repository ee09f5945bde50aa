import { OggOpusMeter } from '@earshot/flite';
import type { AudioUpload } from '../engines/studio.js';
import { EarshotError } from '../errors.js';
import { openInputFile } from '../services/input-files.js';
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
    const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;
    throw new EarshotError(
      'input_too_large',
      `The audio of "${id}" is ${mb(item.audio.bytes)}; this takes ${mb(maxBytes)} at most. Use a shorter clip.`,
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

/** A source read for upload, with its length (known for history; measured or bounded for files). */
export type SourceAudio = AudioUpload & { readonly label: string; readonly durationMs: number };

/** `input_path`: a path inside an EARSHOT_INPUT_DIRS folder (the input-files rules: no `..`, no way out by links). */
export const FILE_DESCRIPTION =
  'An audio file (wav, mp3, ogg, opus, flac, m4a, webm) inside EARSHOT_INPUT_DIRS (off by default): absolute, or relative to its first folder.';

/**
 * An audio file from the allowed input folders, ready to upload. Its length, which books the budget, is read
 * from a WAV header or the Ogg Opus granules; other formats are assumed to be 32 kbit/s, which overstates a
 * usual MP3's length (the booking errs on the side of refusing, and is settled with what was really spent).
 */
export async function readFileSource(
  deps: Pick<ToolDeps, 'inputDirs'>,
  path: string,
  maxBytes = SOURCE_MAX_BYTES,
): Promise<SourceAudio> {
  const file = await openInputFile({ inputDirs: deps.inputDirs, maxBytes }, path);
  const audio = await file.read();
  return {
    label: file.name,
    audio,
    fileName: file.name,
    mimeType: file.mimeType,
    durationMs: measureMs(audio, file.mimeType),
  };
}

const ASSUMED_BYTES_PER_SECOND = 4000;

export function measureMs(audio: Buffer, mimeType: string): number {
  if (mimeType === 'audio/wav') {
    const fmt = audio.indexOf('fmt ', 12, 'latin1');
    const data = audio.indexOf('data', 12, 'latin1');
    const byteRate = fmt > 0 && fmt + 16 <= audio.length ? audio.readUInt32LE(fmt + 16) : 0;
    if (byteRate > 0 && data > 0) return Math.round(((audio.length - data - 8) / byteRate) * 1000);
  }
  if (mimeType === 'audio/ogg') {
    const meter = new OggOpusMeter();
    meter.push(audio);
    if (meter.durationMs > 0) return meter.durationMs;
  }
  return Math.round((audio.length / ASSUMED_BYTES_PER_SECOND) * 1000);
}

/** Exactly one of a history `source` or an `input_path`, read for upload. */
export async function readOneSource(
  deps: Pick<ToolDeps, 'store' | 'inputDirs'>,
  user: string,
  args: { source?: string; input_path?: string },
): Promise<SourceAudio> {
  if ((args.source === undefined) === (args.input_path === undefined)) {
    throw new EarshotError(
      'invalid_input',
      'Give exactly one of source (Earshot history audio) or input_path (a file).',
    );
  }
  if (args.input_path !== undefined) return readFileSource(deps, args.input_path);
  const stored = await readHistorySource(deps, user, args.source!);
  return { ...stored, label: stored.id };
}

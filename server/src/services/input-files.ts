import { constants, type Stats } from 'node:fs';
import { open, readlink, realpath, type FileHandle } from 'node:fs/promises';
import { basename, extname, isAbsolute, relative, resolve, sep } from 'node:path';
import { EarshotError } from '../errors.js';

/** An audio file a tool may read: inside an EARSHOT_INPUT_DIRS folder, a regular file, audio by name and content. */
export interface InputFile {
  /** The file's real path (symbolic links resolved). */
  readonly path: string;
  /** Its file name, e.g. "take-2.wav". */
  readonly name: string;
  readonly size: number;
  readonly mimeType: string;
  /** The whole file; refuses it if it was replaced, grew past the cap or stopped being audio since it was checked. */
  read(): Promise<Buffer>;
}

export interface InputFilesConfig {
  /** Allowed folders, absolute (config.inputDirs); empty turns file inputs off. */
  readonly inputDirs: readonly string[];
  /** The largest file the calling tool accepts. */
  readonly maxBytes: number;
}

/** A requested path longer than this is refused before the file system sees it. */
export const INPUT_PATH_MAX_CHARS = 4096;

type Family = 'wav' | 'mp3' | 'ogg' | 'flac' | 'mp4' | 'webm';

const BY_EXTENSION: Record<string, { family: Family; mimeType: string }> = {
  wav: { family: 'wav', mimeType: 'audio/wav' },
  mp3: { family: 'mp3', mimeType: 'audio/mpeg' },
  ogg: { family: 'ogg', mimeType: 'audio/ogg' },
  oga: { family: 'ogg', mimeType: 'audio/ogg' },
  opus: { family: 'ogg', mimeType: 'audio/ogg' },
  flac: { family: 'flac', mimeType: 'audio/flac' },
  m4a: { family: 'mp4', mimeType: 'audio/mp4' },
  mp4: { family: 'mp4', mimeType: 'audio/mp4' },
  webm: { family: 'webm', mimeType: 'audio/webm' },
};

export const INPUT_EXTENSIONS: readonly string[] = Object.keys(BY_EXTENSION);

const ascii = (bytes: Buffer, start: number, end: number) => bytes.toString('latin1', start, end);

/** Whether the file's first bytes are those of its family: only audio leaves the machine, whatever its name. */
function looksLike(family: Family, head: Buffer): boolean {
  switch (family) {
    case 'wav':
      return /^(RIFF|RF64)$/.test(ascii(head, 0, 4)) && ascii(head, 8, 12) === 'WAVE';
    case 'mp3':
      return ascii(head, 0, 3) === 'ID3' || (head[0] === 0xff && ((head[1] ?? 0) & 0xe0) === 0xe0);
    case 'ogg':
      return ascii(head, 0, 4) === 'OggS';
    case 'flac':
      return ascii(head, 0, 4) === 'fLaC';
    case 'mp4':
      return ascii(head, 4, 8) === 'ftyp';
    case 'webm':
      return head.subarray(0, 4).equals(Buffer.from([0x1a, 0x45, 0xdf, 0xa3]));
  }
}

function isInside(path: string, folder: string): boolean {
  const rel = relative(folder, path);
  return rel !== '' && !rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel);
}

const OPEN_FLAGS =
  // NONBLOCK: opening a FIFO planted in the folder must not hang the call; regular files ignore it.
  constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0) | (constants.O_NONBLOCK ?? 0);

function notFound(requested: string, why = 'does not exist or Earshot may not read it'): EarshotError {
  return new EarshotError('input_not_found', `${requested} ${why}.`);
}

/**
 * Opens an input file the way every tool must: the feature on, the path inside an allowed folder both as
 * written (no `..`) and once symbolic links are resolved, a regular file within the size cap whose extension
 * and first bytes say audio. The handle is closed before returning; `read()` reopens the checked file.
 */
export async function openInputFile(config: InputFilesConfig, requested: string): Promise<InputFile> {
  if (config.inputDirs.length === 0) {
    throw new EarshotError(
      'input_dirs_off',
      'Reading files is off: start Earshot with EARSHOT_INPUT_DIRS set to the absolute folder(s) it may ' +
        'read audio from (comma-separated), then give a path inside one of them.',
    );
  }
  if (requested.length === 0 || requested.length > INPUT_PATH_MAX_CHARS || requested.includes('\0')) {
    throw new EarshotError('invalid_input', `The path must be 1 to ${INPUT_PATH_MAX_CHARS} characters.`);
  }
  const allowed = await allowedFolders(config.inputDirs);
  const outside = () =>
    new EarshotError(
      'input_outside_allowed',
      `${requested} is not inside a folder Earshot may read (EARSHOT_INPUT_DIRS: ${config.inputDirs.join(', ')}).`,
    );
  if (requested.split(/[\\/]/).includes('..')) throw outside();
  // A relative path is taken inside the first allowed folder.
  const wanted = resolve(config.inputDirs[0]!, requested);
  if (!allowed.some((folder) => isInside(wanted, folder.configured) || isInside(wanted, folder.real))) {
    throw outside();
  }
  let real: string;
  try {
    real = await realpath(wanted);
  } catch {
    throw notFound(requested);
  }
  if (!allowed.some((folder) => isInside(real, folder.real))) {
    throw new EarshotError(
      'input_outside_allowed',
      `${requested} leads (through a symbolic link) outside the folders Earshot may read; give the file itself.`,
    );
  }
  const extension = extname(real).slice(1).toLowerCase();
  const kind = BY_EXTENSION[extension];
  if (!kind) {
    throw new EarshotError(
      'input_not_audio',
      `${basename(real)} is not an audio file Earshot takes (${INPUT_EXTENSIONS.join(', ')}).`,
    );
  }
  const checked = await withVerifiedHandle(
    real,
    requested,
    config.maxBytes,
    undefined,
    async (handle, stats) => {
      const head = Buffer.alloc(12);
      await handle.read(head, 0, head.length, 0);
      if (stats.size === 0 || !looksLike(kind.family, head)) {
        throw new EarshotError(
          'input_not_audio',
          `${basename(real)} does not hold ${kind.family.toUpperCase()} audio (its content does not match its name).`,
        );
      }
      return stats;
    },
  );
  return {
    path: real,
    name: basename(real),
    size: checked.size,
    mimeType: kind.mimeType,
    read: () =>
      withVerifiedHandle(real, requested, config.maxBytes, checked, async (handle, stats) => {
        const bytes = await readAll(handle, stats.size, config.maxBytes, requested);
        if (!looksLike(kind.family, bytes)) {
          throw new EarshotError('input_not_audio', `${basename(real)} no longer holds audio.`);
        }
        return bytes;
      }),
  };
}

async function allowedFolders(dirs: readonly string[]): Promise<{ configured: string; real: string }[]> {
  const folders = await Promise.all(
    dirs.map(async (configured) => {
      try {
        return { configured, real: await realpath(configured) };
      } catch {
        return null; // A folder that does not exist holds nothing to read.
      }
    }),
  );
  return folders.filter((folder) => folder !== null);
}

/**
 * Opens `real` without following a last-component link, checks that the opened file is the one the path
 * names (a folder swapped for a link between the checks and the open would make it another), a regular file
 * within the cap (and, when `same` is given, still that file), and runs `use` on it.
 */
async function withVerifiedHandle<T>(
  real: string,
  requested: string,
  maxBytes: number,
  same: Stats | undefined,
  use: (handle: FileHandle, stats: Stats) => Promise<T>,
): Promise<T> {
  let handle: FileHandle;
  try {
    handle = await open(real, OPEN_FLAGS);
  } catch {
    throw notFound(requested);
  }
  try {
    const stats = await handle.stat();
    if (!stats.isFile()) throw notFound(requested, 'is not a regular file');
    if (same && (same.ino !== stats.ino || same.dev !== stats.dev)) {
      throw notFound(requested, 'was replaced since it was checked');
    }
    const opened = await readlink(`/proc/self/fd/${handle.fd}`).catch(() => null);
    if (opened !== null && opened !== real) throw notFound(requested, 'moved while it was opened');
    if (stats.size > maxBytes) throw tooLarge(requested, stats.size, maxBytes);
    return await use(handle, stats);
  } finally {
    await handle.close();
  }
}

function tooLarge(requested: string, size: number, maxBytes: number): EarshotError {
  const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;
  return new EarshotError(
    'input_too_large',
    `${requested} is ${mb(size)}; this tool takes files up to ${mb(maxBytes)}. Use a shorter clip.`,
  );
}

/** Reads the `size` bytes the file had when opened; a file that grew meanwhile is refused, not cut short. */
async function readAll(
  handle: FileHandle,
  size: number,
  maxBytes: number,
  requested: string,
): Promise<Buffer> {
  const buffer = Buffer.alloc(size + 1);
  let filled = 0;
  while (filled < buffer.length) {
    const { bytesRead } = await handle.read(buffer, filled, buffer.length - filled, filled);
    if (bytesRead === 0) break;
    filled += bytesRead;
  }
  if (filled > size) {
    throw filled > maxBytes
      ? tooLarge(requested, filled, maxBytes)
      : notFound(requested, 'changed while it was read');
  }
  return buffer.subarray(0, filled);
}

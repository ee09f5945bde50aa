import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import { chmod, lstat, mkdir, open, realpath } from 'node:fs/promises';
import { join } from 'node:path';
import { EarshotError } from '../errors.js';
import { openInputFile, type InputFile } from './input-files.js';

/**
 * Files tools write for a user (output "file") live in `<EARSHOT_OUTPUT_DIR>/<user folder>/`, made 0700 with
 * files 0600: users neither see nor overwrite each other's files, and speech_to_text's `file_name` reads only
 * the caller's own folder. Files written before per-user folders stay where they were (nothing moves them).
 */

/** A plain file name: no folders, no "..", a known audio extension at the end. */
const FILE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,120}\.([a-z0-9]{2,5})$/;

/**
 * The folder name of `user`: the user id itself when it is lowercase letters, digits, "-" and "_" (so two ids
 * differing only in case cannot share a folder on a case-insensitive disk), else `u-` and a hash of it.
 */
export function userFolderName(user: string): string {
  if (/^[a-z0-9][a-z0-9_-]{0,63}$/.test(user)) return user;
  return `u-${createHash('sha256').update(user).digest('hex').slice(0, 24)}`;
}

function outputOff(): EarshotError {
  return new EarshotError(
    'invalid_input',
    'The file output is off: start Earshot with EARSHOT_OUTPUT_DIR set to a folder it may write to (local use).',
  );
}

/**
 * The user's folder, made (0700) when missing. A folder someone else planted — a symbolic link, not a
 * folder, or not this process's — is refused rather than written into.
 */
export async function userOutputDir(outputDir: string | undefined, user: string): Promise<string> {
  if (!outputDir) throw outputOff();
  await mkdir(outputDir, { recursive: true });
  const folder = join(await realpath(outputDir), userFolderName(user));
  try {
    await mkdir(folder, { mode: 0o700 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  const stats = await lstat(folder);
  const uid = process.getuid?.();
  if (!stats.isDirectory() || (uid !== undefined && stats.uid !== uid)) {
    throw new EarshotError(
      'forbidden',
      'Your folder in the output folder is not one Earshot made (a link, a file or another owner); the ' +
        'operator must remove it.',
    );
  }
  // mkdir's mode is cut by the umask, and a folder made by an older Earshot may be wider.
  if ((stats.mode & 0o777) !== 0o700) await chmod(folder, 0o700);
  return folder;
}

/** Checks a file name given for the output folder; `extension`: the one the content has (wav, mp3…). */
export function checkOutputFileName(fileName: string, extension: string): void {
  const match = FILE_NAME.exec(fileName);
  if (!match || fileName.includes('..') || match[1] !== extension) {
    throw new EarshotError(
      'invalid_input',
      `"${fileName}" is not a plain file name ending in .${extension} (letters, digits, ".", "_" and "-"; no folders).`,
    );
  }
}

/**
 * Writes `bytes` as `fileName` in the user's folder, never outside it: a plain name only, and
 * O_EXCL|O_NOFOLLOW so an existing file or a planted symlink is refused, not followed. Mode 0600.
 */
export async function writeOutputFile(
  outputDir: string | undefined,
  user: string,
  fileName: string,
  extension: string,
  bytes: Uint8Array,
): Promise<string> {
  checkOutputFileName(fileName, extension);
  const path = join(await userOutputDir(outputDir, user), fileName);
  let handle;
  try {
    handle = await open(
      path,
      constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | (constants.O_NOFOLLOW ?? 0),
      0o600,
    );
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new EarshotError(
        'invalid_input',
        `${fileName} already exists in your output folder; pick another name.`,
      );
    }
    throw error;
  }
  try {
    await handle.writeFile(bytes);
    await handle.chmod(0o600); // the umask may have cut it further; never wider
  } finally {
    await handle.close();
  }
  return path;
}

/** One of the caller's own output files, checked as any input file is (inside, regular, audio, capped). */
export async function openOwnOutputFile(
  outputDir: string | undefined,
  user: string,
  fileName: string,
  maxBytes: number,
): Promise<InputFile> {
  if (!FILE_NAME.test(fileName) || fileName.includes('..')) {
    throw new EarshotError('invalid_input', 'file_name must be a plain audio file name (no folders).');
  }
  const folder = await userOutputDir(outputDir, user);
  return openInputFile({ inputDirs: [folder], maxBytes }, join(folder, fileName)).catch((error: unknown) => {
    if (error instanceof EarshotError && error.code === 'input_not_found') {
      throw new EarshotError(
        'not_found',
        `No file ${fileName} in your output folder; give the name a file output returned.`,
      );
    }
    throw error;
  });
}

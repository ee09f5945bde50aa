import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { generateApiKey } from './keys.js';

/**
 * The key of a local install: read from `file`, or generated and saved there (mode 0600) on first run,
 * so the player page URL printed at start keeps working across restarts.
 */
export async function loadOrCreateLocalKey(file: string): Promise<{ key: string; created: boolean }> {
  try {
    const key = (await readFile(file, 'utf8')).trim();
    if (key.length >= 16) return { key, created: false };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const key = generateApiKey();
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  await writeFile(file, `${key}\n`, { mode: 0o600 });
  return { key, created: true };
}

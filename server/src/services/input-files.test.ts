import { spawnSync } from 'node:child_process';
import { chmod, mkdir, mkdtemp, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EarshotError } from '../errors.js';
import { openInputFile, type InputFilesConfig } from './input-files.js';

/** 44-byte WAV header + a few samples: what the magic check calls WAV. */
function wav(samples = 8): Buffer {
  const header = Buffer.alloc(44);
  header.write('RIFF', 0, 'latin1');
  header.writeUInt32LE(36 + samples * 2, 4);
  header.write('WAVEfmt ', 8, 'latin1');
  return Buffer.concat([header, Buffer.alloc(samples * 2)]);
}

const MAGIC: Record<string, Buffer> = {
  'a.mp3': Buffer.concat([Buffer.from('ID3'), Buffer.alloc(20)]),
  'frame.mp3': Buffer.from([0xff, 0xfb, 0x90, 0x64, 0, 0, 0, 0, 0, 0, 0, 0]),
  'a.ogg': Buffer.concat([Buffer.from('OggS'), Buffer.alloc(20)]),
  'a.opus': Buffer.concat([Buffer.from('OggS'), Buffer.alloc(20)]),
  'a.flac': Buffer.concat([Buffer.from('fLaC'), Buffer.alloc(20)]),
  'a.m4a': Buffer.concat([Buffer.from([0, 0, 0, 0x20]), Buffer.from('ftypM4A '), Buffer.alloc(20)]),
  'a.webm': Buffer.concat([Buffer.from([0x1a, 0x45, 0xdf, 0xa3]), Buffer.alloc(20)]),
};

async function refusal(config: InputFilesConfig, requested: string): Promise<EarshotError> {
  try {
    await openInputFile(config, requested);
  } catch (error) {
    expect(error).toBeInstanceOf(EarshotError);
    return error as EarshotError;
  }
  throw new Error(`${requested} was accepted`);
}

describe('openInputFile', () => {
  let root: string;
  let allowed: string;
  let outside: string;
  let config: InputFilesConfig;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'earshot-input-'));
    allowed = join(root, 'in');
    outside = join(root, 'out');
    await mkdir(join(allowed, 'sub'), { recursive: true });
    await mkdir(outside);
    await mkdir(join(root, 'in-evil'));
    await writeFile(join(allowed, 'take.wav'), wav());
    await writeFile(join(allowed, 'sub', 'nested.wav'), wav());
    await writeFile(join(outside, 'secret.wav'), wav());
    await writeFile(join(root, 'in-evil', 'prefix.wav'), wav());
    await writeFile(join(allowed, 'big.wav'), wav(600));
    await writeFile(join(allowed, 'notes.txt'), 'hello');
    await writeFile(join(allowed, 'fake.wav'), 'not audio at all, just text');
    await writeFile(join(allowed, 'empty.wav'), '');
    await mkdir(join(allowed, 'folder.wav'));
    for (const [name, bytes] of Object.entries(MAGIC)) await writeFile(join(allowed, name), bytes);
    await symlink(join(outside, 'secret.wav'), join(allowed, 'link-out.wav'));
    await symlink(join(allowed, 'take.wav'), join(allowed, 'link-in.wav'));
    await symlink(outside, join(allowed, 'dir-out'));
    await symlink(allowed, join(root, 'alias'));
    config = { inputDirs: [allowed], maxBytes: 1000 };
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('is off until EARSHOT_INPUT_DIRS names a folder, and says how to turn it on', async () => {
    const error = await refusal({ inputDirs: [], maxBytes: 1000 }, join(allowed, 'take.wav'));
    expect(error.code).toBe('input_dirs_off');
    expect(error.message).toContain('EARSHOT_INPUT_DIRS');
  });

  it('opens an audio file inside the folder by absolute or relative path, and reads it whole', async () => {
    const file = await openInputFile(config, join(allowed, 'take.wav'));
    expect(file).toMatchObject({ path: join(allowed, 'take.wav'), name: 'take.wav', mimeType: 'audio/wav' });
    expect(file.size).toBe(wav().length);
    expect(await file.read()).toEqual(wav());
    expect((await openInputFile(config, 'sub/nested.wav')).path).toBe(join(allowed, 'sub', 'nested.wav'));
  });

  it('takes each audio kind whose first bytes match its name', async () => {
    const types: Record<string, string> = {};
    for (const name of Object.keys(MAGIC)) types[name] = (await openInputFile(config, name)).mimeType;
    expect(types).toEqual({
      'a.mp3': 'audio/mpeg',
      'frame.mp3': 'audio/mpeg',
      'a.ogg': 'audio/ogg',
      'a.opus': 'audio/ogg',
      'a.flac': 'audio/flac',
      'a.m4a': 'audio/mp4',
      'a.webm': 'audio/webm',
    });
  });

  it('refuses ".." in the path even when it would land inside the folder', async () => {
    for (const path of [
      join(allowed, '..', 'out', 'secret.wav'),
      `${allowed}/sub/../take.wav`,
      '../out/secret.wav',
      '..\\out\\secret.wav',
    ]) {
      expect((await refusal(config, path)).code, path).toBe('input_outside_allowed');
    }
  });

  it('refuses paths outside the folders, existing or not (no probing), and a sibling sharing its prefix', async () => {
    for (const path of [
      join(outside, 'secret.wav'),
      join(outside, 'missing.wav'),
      join(root, 'in-evil', 'prefix.wav'),
      allowed,
      '/etc/passwd',
    ]) {
      const error = await refusal(config, path);
      expect(error.code, path).toBe('input_outside_allowed');
      expect(error.message).toContain('EARSHOT_INPUT_DIRS');
    }
  });

  it('refuses a symbolic link (to a file or a folder) that leads out of the folder', async () => {
    expect((await refusal(config, 'link-out.wav')).code).toBe('input_outside_allowed');
    expect((await refusal(config, 'dir-out/secret.wav')).code).toBe('input_outside_allowed');
  });

  it('follows a symbolic link that stays inside, and reaches the folder through a linked alias of it', async () => {
    expect((await openInputFile(config, 'link-in.wav')).path).toBe(join(allowed, 'take.wav'));
    const viaAlias = { inputDirs: [join(root, 'alias')], maxBytes: 1000 };
    expect((await openInputFile(viaAlias, join(root, 'alias', 'take.wav'))).path).toBe(
      join(allowed, 'take.wav'),
    );
    expect((await openInputFile(viaAlias, join(allowed, 'take.wav'))).name).toBe('take.wav');
  });

  it('says not found for a missing file and for something that is not a regular file', async () => {
    expect((await refusal(config, 'missing.wav')).code).toBe('input_not_found');
    expect((await refusal(config, 'folder.wav')).code).toBe('input_not_found');
  });

  it('refuses a FIFO without hanging on it', async (context) => {
    const fifo = join(allowed, 'pipe.wav');
    const made = spawnSync('mkfifo', [fifo]);
    if (made.status !== 0) context.skip('mkfifo is not available here');
    expect((await refusal(config, fifo)).code).toBe('input_not_found');
  });

  it('refuses a file over the cap, before reading it', async () => {
    const error = await refusal(config, 'big.wav');
    expect(error.code).toBe('input_too_large');
    expect(error.message).toContain('up to 0.0 MB');
    await expect(openInputFile({ ...config, maxBytes: 10_000 }, 'big.wav')).resolves.toBeTruthy();
  });

  it('refuses what is not audio by name or by content', async () => {
    for (const name of ['notes.txt', 'fake.wav', 'empty.wav']) {
      expect((await refusal(config, name)).code, name).toBe('input_not_audio');
    }
  });

  it('refuses a file replaced, grown or no longer audio between the check and the read', async () => {
    const path = join(allowed, 'changing.wav');
    await writeFile(path, wav());
    const replaced = await openInputFile(config, path);
    // Written beside it, then renamed over it: both exist at once, so the new one has another inode.
    await writeFile(`${path}.new`, wav());
    await rename(`${path}.new`, path);
    await expect(replaced.read()).rejects.toMatchObject({ code: 'input_not_found' });

    const grown = await openInputFile(config, path);
    await writeFile(path, wav(600), { flag: 'r+' });
    await expect(grown.read()).rejects.toMatchObject({ code: 'input_too_large' });

    await writeFile(path, wav());
    const spoiled = await openInputFile(config, path);
    await writeFile(path, Buffer.alloc(wav().length, 0x41), { flag: 'r+' });
    await expect(spoiled.read()).rejects.toMatchObject({ code: 'input_not_audio' });
  });

  it('refuses an empty, over-long or NUL-holding path before touching the disk', async () => {
    for (const path of ['', 'a'.repeat(5000), 'take.wav\0.txt']) {
      expect((await refusal(config, path)).code).toBe('invalid_input');
    }
  });

  it('says not found for a file Earshot may not read (plain user only: root reads anything)', async (context) => {
    if (process.getuid?.() === 0) context.skip('root reads a mode-000 file, so there is no refusal to see');
    const locked = join(allowed, 'locked.wav');
    await writeFile(locked, wav());
    await chmod(locked, 0o000);
    expect((await refusal(config, locked)).code).toBe('input_not_found');
  });
});

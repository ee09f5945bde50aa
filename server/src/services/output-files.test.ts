import { chown, mkdir, mkdtemp, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openOwnOutputFile, userFolderName, userOutputDir, writeOutputFile } from './output-files.js';

const WAV = Buffer.concat([Buffer.from('RIFF\0\0\0\0WAVEfmt '), Buffer.alloc(32)]);

describe('per-user output folders', () => {
  let root: string;
  let outputDir: string;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'earshot-output-'));
    outputDir = join(root, 'out');
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('names a folder after a plain lowercase user id, else after a hash (ids differing in case never share)', () => {
    expect(userFolderName('alice')).toBe('alice');
    expect(userFolderName('default')).toBe('default');
    expect(userFolderName('Alice')).toMatch(/^u-[0-9a-f]{24}$/);
    expect(userFolderName('Alice')).not.toBe(userFolderName('ALICE'));
  });

  it('writes 0600 files in a 0700 folder made on first use, narrowing a folder made wider before', async () => {
    const path = await writeOutputFile(outputDir, 'alice', 'a.wav', 'wav', WAV);
    expect(path).toBe(join(outputDir, 'alice', 'a.wav'));
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect((await stat(join(outputDir, 'alice'))).mode & 0o777).toBe(0o700);
    await mkdir(join(outputDir, 'bob'), { mode: 0o755 });
    await writeOutputFile(outputDir, 'bob', 'a.wav', 'wav', WAV);
    expect((await stat(join(outputDir, 'bob'))).mode & 0o777).toBe(0o700);
    expect(await readFile(join(outputDir, 'bob', 'a.wav'))).toEqual(WAV);
  });

  it('refuses a user folder that is a planted symbolic link, writing nothing through it', async () => {
    await mkdir(outputDir);
    await mkdir(join(root, 'elsewhere'));
    await symlink(join(root, 'elsewhere'), join(outputDir, 'alice'));
    await expect(writeOutputFile(outputDir, 'alice', 'a.wav', 'wav', WAV)).rejects.toMatchObject({
      code: 'forbidden',
    });
    await expect(stat(join(root, 'elsewhere', 'a.wav'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('refuses a user folder owned by someone else (root only: a plain user cannot give a folder away)', async (context) => {
    if (process.getuid?.() !== 0) context.skip('only root can make a folder owned by another user');
    await mkdir(join(outputDir, 'alice'), { recursive: true });
    await chown(join(outputDir, 'alice'), 65534, 65534);
    await expect(userOutputDir(outputDir, 'alice')).rejects.toMatchObject({ code: 'forbidden' });
  });

  it('refuses names with folders, "..", or the wrong extension, and an existing file', async () => {
    for (const name of ['../a.wav', 'sub/a.wav', '..wav', 'a.mp3', '.a.wav']) {
      await expect(writeOutputFile(outputDir, 'alice', name, 'wav', WAV), name).rejects.toMatchObject({
        code: 'invalid_input',
      });
    }
    await writeOutputFile(outputDir, 'alice', 'a.wav', 'wav', WAV);
    await expect(writeOutputFile(outputDir, 'alice', 'a.wav', 'wav', WAV)).rejects.toThrow(/already exists/);
  });

  it("opens only the caller's own files", async () => {
    await writeOutputFile(outputDir, 'alice', 'mine.wav', 'wav', WAV);
    await writeFile(join(outputDir, 'shared.wav'), WAV);
    expect((await openOwnOutputFile(outputDir, 'alice', 'mine.wav', 1000)).path).toBe(
      join(outputDir, 'alice', 'mine.wav'),
    );
    for (const [user, name] of [
      ['bob', 'mine.wav'],
      ['alice', 'shared.wav'],
    ] as const) {
      await expect(openOwnOutputFile(outputDir, user, name, 1000)).rejects.toMatchObject({
        code: 'not_found',
      });
    }
    await expect(openOwnOutputFile(outputDir, 'bob', '../alice/mine.wav', 1000)).rejects.toMatchObject({
      code: 'invalid_input',
    });
    await expect(openOwnOutputFile(undefined, 'bob', 'mine.wav', 1000)).rejects.toThrow(/EARSHOT_OUTPUT_DIR/);
  });
});

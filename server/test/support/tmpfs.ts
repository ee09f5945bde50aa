/**
 * A small tmpfs to fill up, for full-disk tests: as root it is mounted here; as a plain user the server runs in
 * a private user and mount namespace (`unshare -rm`) where it may mount one, and this process reaches it
 * through /proc/PID/root. When neither works the reason comes back, so the test says "not run (…)".
 */
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmdirSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface SmallDisk {
  readonly mode: 'mount' | 'unshare';
  readonly dir: string;
  /** Prefix for the server command (it must exec its arguments, so the pid stays the server's). */
  readonly wrapper: readonly string[];
  /** Where this process reaches the tmpfs of the server with this pid. */
  pathFromHere(pid: number): string;
  cleanup(): void;
}

export function smallDisk(size = '16m'): SmallDisk | string {
  const dir = mkdtempSync(join(tmpdir(), 'earshot-small-disk-'));
  const failures: string[] = [];
  if (process.getuid?.() === 0) {
    const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0700`, 'tmpfs', dir], {
      encoding: 'utf8',
    });
    if (mounted.status === 0) {
      return {
        mode: 'mount',
        dir,
        wrapper: [],
        pathFromHere: () => dir,
        cleanup: () => {
          spawnSync('umount', ['-l', dir], { timeout: 10_000 });
          rmdirSync(dir);
        },
      };
    }
    failures.push(`mount: ${(mounted.stderr || mounted.error?.message || 'failed').trim()}`);
  }
  const probe = spawnSync('unshare', ['-rm', 'sh', '-c', `mount -t tmpfs -o size=1m tmpfs "${dir}"`], {
    encoding: 'utf8',
  });
  if (probe.status === 0) {
    return {
      mode: 'unshare',
      dir,
      wrapper: [
        'unshare',
        '-rm',
        'sh',
        '-c',
        `mount -t tmpfs -o size=${size},mode=0700 tmpfs "$0" && exec "$@"`,
        dir,
      ],
      pathFromHere: (pid) => `/proc/${pid}/root${dir}`,
      cleanup: () => rmdirSync(dir),
    };
  }
  failures.push(`unshare -rm: ${(probe.stderr || probe.error?.message || 'failed').trim()}`);
  rmdirSync(dir);
  return `not run (${failures.join('; ')})`;
}

/** Writes into `dir` until the file system refuses (ENOSPC), tail included; returns a function that frees it. */
export function fill(dir: string): () => void {
  const names: string[] = [];
  const write = (name: string, chunk: Buffer) => {
    const fd = openSync(join(dir, name), 'w');
    names.push(name);
    try {
      for (;;) writeSync(fd, chunk);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
    } finally {
      closeSync(fd);
    }
  };
  write('filler', Buffer.alloc(64 * 1024, 0x5a));
  // The last partial pages too: a few bytes left would let a small write succeed by luck.
  for (let i = 0; i < 64; i++) {
    try {
      write(`tail-${i}`, Buffer.alloc(512, 0x5a));
    } catch {
      break;
    }
  }
  return () => {
    for (const name of names) rmSync(join(dir, name), { force: true });
  };
}

/**
 * Runs a TypeScript child (`node --import tsx`, Earshot's sources) inside the small disk, as `smallDisk` says it
 * must be run there, and resolves with the JSON it prints; rejects with its stderr's tail when it exits otherwise.
 */
export function runChildOnDisk<T>(disk: SmallDisk, child: string, args: readonly string[]): Promise<T> {
  const node = [process.execPath, '--import', 'tsx', '--conditions=@earshot/source', child];
  const [command, ...rest] = [...disk.wrapper, ...node, ...args];
  return new Promise((resolve, reject) => {
    const running = spawn(command!, rest, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let errors = '';
    running.stdout.on('data', (data: Buffer) => (out += data.toString()));
    running.stderr.on('data', (data: Buffer) => (errors = (errors + data.toString()).slice(-4000)));
    running.on('error', reject);
    running.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`the child exited with ${code}: ${errors}`));
      resolve(JSON.parse(out) as T);
    });
  });
}

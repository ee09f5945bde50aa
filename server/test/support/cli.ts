import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync } from 'node:fs';
import { access, chmod, constants, mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';

/** What `npm start`, the Docker image and the benchmark run (scripts/bundle.mjs). */
export const CLI_PATH = fileURLToPath(new URL('../../dist/bundle/main.js', import.meta.url));

function checkBuilt(): void {
  if (!existsSync(CLI_PATH))
    throw new Error(`${CLI_PATH} is missing: run "npm run build" first (npm test does).`);
}

export interface CliProcess {
  readonly child: ChildProcessWithoutNullStreams;
  readonly url: string;
  output(): string;
  readonly exited: Promise<number | null>;
}

/** Runs the built `earshot serve` as a real process (stdout a pipe, not a terminal) and waits for its banner. */
export async function startCli(env: Record<string, string>, timeoutMs = 20_000): Promise<CliProcess> {
  checkBuilt();
  const child = spawn(process.execPath, [CLI_PATH, 'serve'], {
    env: { PATH: process.env.PATH ?? '', HOST: '127.0.0.1', PORT: '0', ...env },
  });
  let output = '';
  child.stdout.on('data', (data: Buffer) => (output += data.toString()));
  child.stderr.on('data', (data: Buffer) => (output += data.toString()));
  // On close, not exit: then the output is complete (the last log lines are written as the process exits).
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`no banner within ${timeoutMs} ms:\n${output}`)),
      timeoutMs,
    );
    const check = () => {
      const match = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    };
    child.stdout.on('data', check);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`earshot exited with ${code}:\n${output}`));
    });
  });
  return { child, url, output: () => output, exited };
}

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the built `earshot ARGS…` to its exit, with nothing on stdin. */
export function runCli(
  args: string[],
  env: Record<string, string>,
  options: { cwd?: string; timeoutMs?: number } = {},
): Promise<CliResult> {
  checkBuilt();
  const child = spawn(process.execPath, [CLI_PATH, ...args], {
    env: { PATH: process.env.PATH ?? '', ...env },
    cwd: options.cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (data: Buffer) => (stdout += data.toString()));
  child.stderr.on('data', (data: Buffer) => (stderr += data.toString()));
  const timeoutMs = options.timeoutMs ?? 60_000;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`earshot ${args.join(' ')} still running after ${timeoutMs} ms:\n${stdout}${stderr}`));
    }, timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

export interface TerminalCli {
  readonly url: string;
  output(): string;
  /** Ctrl+C on the terminal; resolves with the exit code. */
  stop(): Promise<number | null>;
}

/**
 * Runs the built `earshot serve` with a pseudo-terminal as stdout (util-linux `script`), as a person would in a
 * terminal, and waits for its banner.
 */
export async function startCliInTerminal(
  env: Record<string, string>,
  timeoutMs = 20_000,
): Promise<TerminalCli> {
  checkBuilt();
  const child = spawn('script', ['-qfec', `exec "${process.execPath}" "${CLI_PATH}" serve`, '/dev/null'], {
    env: { PATH: process.env.PATH ?? '', HOST: '127.0.0.1', PORT: '0', ...env },
  });
  let output = '';
  child.stdout.on('data', (data: Buffer) => (output += data.toString()));
  child.stderr.on('data', (data: Buffer) => (output += data.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`no banner within ${timeoutMs} ms:\n${output}`)),
      timeoutMs,
    );
    child.stdout.on('data', () => {
      const match = /listening on (http:\/\/127\.0\.0\.1:\d+)[\s\S]*Ctrl\+C to stop/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`script/earshot exited with ${code}:\n${output}`));
    });
  });
  return {
    url,
    output: () => output,
    stop: () => {
      child.stdin.write('\x03');
      return exited;
    },
  };
}

/** A loopback port nothing listens on right now. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (typeof address !== 'object' || !address) throw new Error('no port');
  return address.port;
}

/**
 * A folder this process cannot create anything in: a fresh 0500 folder for a plain user; as root (who ignores
 * modes) /sys, where creating a folder is refused to everyone.
 */
export async function unwritableFolder(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'earshot-readonly-'));
  await chmod(dir, 0o500);
  const writable = await access(dir, constants.W_OK).then(
    () => true,
    () => false,
  );
  if (!writable) return dir;
  await rm(dir, { recursive: true, force: true });
  return '/sys';
}

/** No run of 10 characters of any secret appears in `text`: catches a prefix or suffix, not just the whole. */
export function expectNoSecret(text: string, secrets: readonly string[], where = 'output'): void {
  for (const secret of secrets)
    for (let i = 0; i + 10 <= secret.length; i++)
      if (text.includes(secret.slice(i, i + 10)))
        expect.fail(`${where} holds part of a secret (${secret.slice(0, 4)}…):\n${text}`);
}

/** One or two lines on stderr, no Node stack, nothing on stdout. */
export function expectOneClearMessage(result: CliResult): void {
  expect(result.stdout).toBe('');
  expect(result.stderr).not.toMatch(/^\s+at /m);
  expect(result.stderr).not.toMatch(/node:internal|Node\.js v\d/);
  const lines = result.stderr.trim().split('\n');
  expect(lines.length, result.stderr).toBeLessThanOrEqual(2);
}

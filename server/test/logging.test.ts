/**
 * The log is batched (logger.ts): what makes the lines come out, in a real process each time, with a flush
 * interval longer than any test unless the test is about that interval.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const CHILD = fileURLToPath(new URL('./support/logger-child.ts', import.meta.url));
/** A flush interval no test waits out: a line that appears was written by something else. */
const NEVER_MS = 3_600_000;

interface LogLine {
  readonly msg: string;
  readonly n?: number;
}

/** Runs logger-child.ts (see there for the endings). */
function runChild(ending: string, options: { flushIntervalMs?: number; fd?: number } = {}) {
  const child = spawn(process.execPath, [
    '--import',
    'tsx',
    '--conditions=@earshot/source',
    CHILD,
    ending,
    String(options.flushIntervalMs ?? NEVER_MS),
    String(options.fd ?? 1),
  ]);
  const output = { stdout: '', stderr: '' };
  child.stdout.on('data', (data: Buffer) => (output.stdout += data.toString()));
  child.stderr.on('data', (data: Buffer) => (output.stderr += data.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return { child, output, exited };
}

function logLines(text: string): LogLine[] {
  return text
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as LogLine);
}

const THREE_LINES = [1, 2, 3].map((n) => ({ msg: 'line', n }));

describe('the batched log', () => {
  it.each([
    ['calls process.exit', 'exit', 0],
    ['runs out of work', 'end', 0],
    ['dies of an uncaught exception', 'uncaught', 1],
    ['dies of an unhandled rejection', 'rejection', 1],
  ])('writes every waiting line when the process %s', async (_name, ending, code) => {
    const { output, exited } = runChild(ending);
    expect(await exited).toBe(code);
    expect(logLines(output.stdout)).toMatchObject(THREE_LINES);
    if (code !== 0) expect(output.stderr).toMatch(/nobody (catches|handles) this/);
  });

  it('writes a warning at once, after the lines logged before it', async () => {
    const { child, output, exited } = runChild('warn');
    try {
      await expect.poll(() => output.stdout, { timeout: 20_000 }).toContain('a warning');
      expect(logLines(output.stdout)).toMatchObject([...THREE_LINES, { msg: 'a warning' }]);
    } finally {
      child.kill();
      await exited;
    }
  });

  it("writes a quiet process's lines within the flush interval, while it runs", async () => {
    const { child, output, exited } = runChild('stay', { flushIntervalMs: 50 });
    try {
      await expect.poll(() => logLines(output.stdout).length, { timeout: 20_000 }).toBe(3);
      expect(logLines(output.stdout)).toMatchObject(THREE_LINES);
    } finally {
      child.kill();
      await exited;
    }
  });

  it('writes to the descriptor it is given and nothing to stdout (earshot mcp: stdout carries MCP)', async () => {
    const { output, exited } = runChild('exit', { fd: 2 });
    expect(await exited).toBe(0);
    expect(output.stdout).toBe('');
    expect(logLines(output.stderr)).toMatchObject(THREE_LINES);
  });
});

import { parseArgs } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../config/env.js';
import { EarshotError } from '../errors.js';
import { StoreCorruptError, StoreFullError, StoreUnavailableError } from '../storage/errors.js';
import { CliError, explainError } from './errors.js';

function systemError(code: string, fields: Record<string, unknown>): Error {
  return Object.assign(new Error(`${code}: raw node message`), { code, ...fields });
}

function thrownBy(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  throw new Error('nothing thrown');
}

const options = { voice: { type: 'string' }, help: { type: 'boolean' } } as const;

describe('explainError', () => {
  it('keeps our own messages and their exit codes: 2 for configuration, 1 for what failed while running', () => {
    expect(explainError(new ConfigError('bad env'))).toEqual({
      message: 'bad env',
      exitCode: 2,
      known: true,
    });
    expect(explainError(new CliError('usage', 2)).exitCode).toBe(2);
    expect(explainError(new CliError('refused')).exitCode).toBe(1);
    expect(explainError(new EarshotError('unauthorized', 'ElevenLabs rejected the API key'))).toMatchObject({
      exitCode: 1,
      known: true,
    });
  });

  it('says which database is damaged and how to recover in one line, and why the store cannot be used', () => {
    const corrupt = explainError(new StoreCorruptError('/data/earshot.db', 'file is not a database'));
    expect(corrupt.exitCode).toBe(1);
    expect(corrupt.message.split('\n')).toHaveLength(1);
    expect(corrupt.message).toMatch(
      /^The Earshot database \/data\/earshot\.db is damaged \(file is not a database\)\. Stop every Earshot process using it, move the file aside/,
    );
    expect(
      explainError(new StoreUnavailableError('Could not read: ResourceNotFoundException. Create the table')),
    ).toEqual({
      message: 'Earshot cannot use its store: Could not read: ResourceNotFoundException. Create the table',
      exitCode: 1,
      known: true,
    });
    expect(explainError(new StoreFullError('The disk is full')).exitCode).toBe(1);
  });

  it("turns parseArgs errors into one line plus the command's usage, exit 2, without echoing values", () => {
    const usage = 'Usage: earshot say TEXT';
    const unknown = thrownBy(() => parseArgs({ args: ['--bogus=esk_secretValue123'], options }));
    expect(explainError(unknown, { usage })).toEqual({
      message: `Unknown option --bogus.\n${usage}`,
      exitCode: 2,
      known: true,
    });
    const missing = thrownBy(() => parseArgs({ args: ['--voice'], options }));
    expect(explainError(missing, { usage }).message).toBe(`--voice needs a value.\n${usage}`);
    const extra = thrownBy(() => parseArgs({ args: ['--help=esk_secretValue123'], options }));
    expect(explainError(extra, { usage }).message).toBe(`--help takes no value.\n${usage}`);
    const positional = thrownBy(() => parseArgs({ args: ['esk_secretValue123'], options }));
    expect(explainError(positional, { usage }).message).toBe(`Unexpected argument.\n${usage}`);
  });

  it('explains listen failures: port in use, address not on this machine, privileged port', () => {
    const inUse = explainError(
      systemError('EADDRINUSE', { syscall: 'listen', address: '127.0.0.1', port: 8080 }),
    );
    expect(inUse.message).toMatch(/^Port 8080 is taken by another program[\s\S]*PORT=8081/);
    expect(inUse.exitCode).toBe(1);
    expect(
      explainError(systemError('EADDRNOTAVAIL', { syscall: 'listen', address: '192.0.2.1', port: 8080 }))
        .message,
    ).toMatch(/^HOST 192\.0\.2\.1 is not an address of this machine/);
    expect(
      explainError(systemError('EACCES', { syscall: 'listen', address: '0.0.0.0', port: 80 })).message,
    ).toMatch(/ports below 1024/);
    expect(
      explainError(systemError('ENOTFOUND', { syscall: 'getaddrinfo', hostname: 'nosuch.example' })).message,
    ).toMatch(/HOST "nosuch\.example" does not resolve/);
  });

  it('explains file system failures, pointing at EARSHOT_DATA_DIR when the path is in it', () => {
    const dataDir = '/srv/earshot';
    const denied = explainError(systemError('EACCES', { syscall: 'mkdir', path: '/srv/earshot' }), {
      dataDir,
    });
    expect(denied.message).toMatch(
      /^Cannot create the folder \/srv\/earshot: permission denied\.\nEarshot keeps/,
    );
    expect(denied.message).toContain('EARSHOT_DATA_DIR (now /srv/earshot');
    expect(denied.exitCode).toBe(1);
    const file = explainError(systemError('ENOTDIR', { syscall: 'open', path: '/srv/earshot/api-key' }), {
      dataDir,
    });
    expect(file.message).toMatch(/part of that path is a file[\s\S]*EARSHOT_DATA_DIR/);
    const inTheWay = explainError(systemError('EEXIST', { syscall: 'mkdir', path: '/srv/earshot' }), {
      dataDir,
    });
    expect(inTheWay.message).toMatch(/a file with that name is in the way/);
    const elsewhere = explainError(systemError('EACCES', { syscall: 'open', path: '/home/me/out.wav' }), {
      dataDir,
    });
    expect(elsewhere.message).toBe('Cannot open /home/me/out.wav: permission denied.');
    expect(explainError(systemError('EROFS', { syscall: 'mkdir', path: '/ro' })).message).toMatch(
      /read-only/,
    );
    expect(explainError(systemError('ENOSPC', { syscall: 'write', path: '/x' })).message).toMatch(
      /disk is full/,
    );
  });

  it('gives anything else a short message marked unknown, so the caller can offer the stack', () => {
    expect(explainError(new TypeError('boom'))).toEqual({
      message: 'earshot failed: boom',
      exitCode: 1,
      known: false,
    });
    expect(explainError(systemError('ELOOP', { syscall: 'open', path: '/x' })).known).toBe(false);
    expect(explainError('a string')).toMatchObject({ message: 'earshot failed: a string', known: false });
  });
});

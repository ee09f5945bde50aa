import { resolve } from 'node:path';
import { ConfigError } from '../config/env.js';
import { EarshotError } from '../errors.js';
import { StoreCorruptError, StoreError, StoreInputError } from '../storage/errors.js';

/**
 * Exit codes: 2 when Earshot refused the command line or the environment before trying anything (usage and
 * configuration errors); 1 when trying failed (a port in use, a folder it may not write, a server that refused).
 */
export type ExitCode = 1 | 2;

/** A failure the user can act on: its message is printed as is, then the process exits with `exitCode`. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCode = 1,
  ) {
    super(message);
  }
}

export interface ExplainContext {
  /** The usage line of the command that failed, appended to argument errors. */
  readonly usage?: string;
  /** The data directory in effect (absolute), to point at EARSHOT_DATA_DIR when a path inside it fails. */
  readonly dataDir?: string;
}

export interface Explained {
  /** One or two lines for stderr. */
  readonly message: string;
  readonly exitCode: ExitCode;
  /** Whether the message is ours; unknown errors say how to see their stack. */
  readonly known: boolean;
}

interface SystemError {
  code: string;
  syscall?: string;
  path?: string;
  address?: string;
  port?: number;
  hostname?: string;
}

function systemError(error: unknown): SystemError | undefined {
  if (!(error instanceof Error)) return undefined;
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' ? (error as unknown as SystemError) : undefined;
}

/** Maps what a command threw to the message a person reads and the exit code. Never includes a stack. */
export function explainError(error: unknown, context: ExplainContext = {}): Explained {
  if (error instanceof CliError) return { message: error.message, exitCode: error.exitCode, known: true };
  if (error instanceof ConfigError) return { message: error.message, exitCode: 2, known: true };
  // The product's own failures (ElevenLabs rejected the key, unknown voice…) already say what to do.
  if (error instanceof EarshotError) return { message: error.message, exitCode: 1, known: true };
  // A damaged database: one line naming the file and how to recover.
  if (error instanceof StoreCorruptError) return { message: error.message, exitCode: 1, known: true };
  if (error instanceof StoreInputError) return { message: error.message, exitCode: 2, known: true };
  if (error instanceof StoreError) {
    // A data folder it cannot create or write reads like any other file problem.
    const cause = systemError(error.cause);
    const message = cause?.path ? systemMessage(cause, context) : undefined;
    return { message: message ?? `Earshot cannot use its store: ${error.message}`, exitCode: 1, known: true };
  }
  const system = systemError(error);
  const message =
    system && (argumentMessage(system, error as Error, context) ?? systemMessage(system, context));
  if (message) return { message, exitCode: system.code.startsWith('ERR_PARSE_ARGS') ? 2 : 1, known: true };
  const text = error instanceof Error ? error.message : String(error);
  return { message: `earshot failed: ${text}`, exitCode: 1, known: false };
}

function argumentMessage(error: SystemError, raw: Error, context: ExplainContext): string | undefined {
  const usage = context.usage ? `\n${context.usage}` : '';
  // Node's messages quote the option (never its value): "Unknown option '--bogus'. …"
  const option = /'(-{1,2}[^' <]+)/.exec(raw.message)?.[1] ?? 'an option';
  switch (error.code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return `Unknown option ${option}.${usage}`;
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      return raw.message.includes('argument missing')
        ? `${option} needs a value.${usage}`
        : `${option} takes no value.${usage}`;
    case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL':
      // Not echoed: a stray argument may be a key pasted in the wrong place.
      return `Unexpected argument.${usage}`;
    default:
      return undefined;
  }
}

function systemMessage(error: SystemError, context: ExplainContext): string | undefined {
  if (error.syscall === 'listen' || error.syscall === 'bind') return listenMessage(error);
  if (error.syscall === 'getaddrinfo' && (error.code === 'ENOTFOUND' || error.code === 'EAI_AGAIN'))
    return (
      `HOST "${error.hostname ?? ''}" does not resolve to an address of this machine. ` +
      'Use 127.0.0.1 (this machine only), 0.0.0.0 (every interface) or localhost.'
    );
  if (error.path) return fileMessage(error, error.path, context);
  return undefined;
}

function listenMessage(error: SystemError): string | undefined {
  const where = `${error.address ?? 'its address'}:${error.port ?? '?'}`;
  switch (error.code) {
    case 'EADDRINUSE':
      return (
        `Port ${error.port ?? '?'} is taken by another program (${where}).\n` +
        `Stop that program, or set PORT to a free port, e.g. PORT=${nextPort(error.port)} earshot serve (or npm start).`
      );
    case 'EADDRNOTAVAIL':
      return (
        `HOST ${error.address ?? ''} is not an address of this machine, so Earshot cannot listen on it.\n` +
        'Use 127.0.0.1 (this machine only), 0.0.0.0 (every interface) or one of its own addresses.'
      );
    case 'EACCES':
    case 'EPERM':
      return `Not allowed to listen on ${where}: ports below 1024 need privileges. Set PORT to 1024 or above (default 8080).`;
    default:
      return undefined;
  }
}

function nextPort(port: number | undefined): number {
  return port && port < 65535 ? port + 1 : 8081;
}

function fileMessage(error: SystemError, path: string, context: ExplainContext): string | undefined {
  const action = error.syscall === 'mkdir' ? 'create the folder' : error.syscall === 'open' ? 'open' : 'use';
  let problem: string;
  switch (error.code) {
    case 'EACCES':
    case 'EPERM':
      problem = `Cannot ${action} ${path}: permission denied.`;
      break;
    case 'EROFS':
      problem = `Cannot ${action} ${path}: the file system is read-only.`;
      break;
    case 'ENOTDIR':
      problem = `Cannot ${action} ${path}: part of that path is a file, where a folder should be.`;
      break;
    case 'EEXIST':
      problem =
        error.syscall === 'mkdir'
          ? `Cannot create the folder ${path}: a file with that name is in the way.`
          : `${path} already exists.`;
      break;
    case 'EISDIR':
      problem = `Cannot ${action} ${path}: it is a folder, where a file should be.`;
      break;
    case 'ENOENT':
      problem = `Cannot ${action} ${path}: no such file or folder.`;
      break;
    case 'ENOSPC':
      problem = `Cannot write ${path}: the disk is full.`;
      break;
    default:
      return undefined;
  }
  const dataDir = context.dataDir;
  const inDataDir = dataDir && (isInside(path, dataDir) || isInside(dataDir, path));
  if (!inDataDir) return problem;
  return (
    `${problem}\nEarshot keeps its key and history in EARSHOT_DATA_DIR (now ${dataDir}; the default is .earshot ` +
    'in the current folder): set it to a folder you can write, or run from one.'
  );
}

function isInside(path: string, folder: string): boolean {
  const child = resolve(path);
  const parent = resolve(folder);
  return child === parent || child.startsWith(`${parent}/`);
}

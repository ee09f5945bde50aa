#!/usr/bin/env node
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { tooOldNode } from '../../bin/node-version.js';
import { keepCompiledCode } from './compile-cache.js';
import { CliError, explainError } from './errors.js';
import { COMMAND_USAGE, earshotVersion, USAGE, type Command } from './usage.js';

/** The usage line of the command being run, for argument errors. */
let usage: string | undefined;

// Each command loads its own modules: --version, --help and usage errors answer at once, without the server.

/** For commands without arguments: refuses any (so typos fail loudly); true when --help was asked. */
function helpOnly(command: Command, argv: string[]): boolean {
  const { values } = parseArgs({ args: argv, options: { help: { type: 'boolean', short: 'h' } } });
  if (values.help) process.stdout.write(`${COMMAND_USAGE[command]}\n`);
  return values.help === true;
}

async function main(argv: string[]): Promise<void> {
  const [command = 'serve', ...rest] = argv;
  // The launcher (bin/earshot.js) says this too; the bundle run directly (`node dist/bundle/main.js`) says it here,
  // before Node's missing parts (the compile cache, node:sqlite) fail with a message about themselves.
  const tooOld = tooOldNode(process.versions.node);
  if (tooOld !== undefined) throw new CliError(tooOld);
  // Before any command loads its modules: the next start reads their compiled code (compile-cache.ts).
  keepCompiledCode();
  if (Object.hasOwn(COMMAND_USAGE, command)) usage = COMMAND_USAGE[command as Command];
  switch (command) {
    case 'serve':
      if (!helpOnly(command, rest)) await (await import('./serve.js')).serve(process.env);
      return;
    case 'mcp':
      if (!helpOnly(command, rest)) await (await import('./mcp-stdio.js')).runMcpStdio(process.env);
      return;
    case 'say':
      return (await import('./say.js')).say(rest, process.env);
    case 'doctor':
      if (!helpOnly(command, rest) && !(await (await import('./doctor.js')).doctor(process.env)))
        process.exitCode = 1;
      return;
    case 'keys':
      return (await import('./keys.js')).keys(rest);
    case 'store':
      return (await import('./store.js')).store(rest, process.env);
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(`${USAGE}\n`);
      return;
    case '--version':
    case '-v':
    case 'version':
      process.stdout.write(`${earshotVersion()}\n`);
      return;
    default: {
      // Echoed only when it looks like a word: anything else may be a key typed in the wrong place.
      const shown = /^-{0,2}[a-z][a-z-]{0,30}$/i.test(command) ? ` "${command}"` : '';
      throw new CliError(
        `Unknown command${shown}. Commands: serve, mcp, say, keys create, store init, doctor; see earshot --help.`,
        2,
      );
    }
  }
}

main(process.argv.slice(2)).catch((error: unknown) => {
  const dataDir = resolve(process.env.EARSHOT_DATA_DIR ?? '.earshot');
  const explained = explainError(error, { usage, dataDir });
  console.error(explained.message);
  const debug = ['debug', 'trace'].includes(process.env.EARSHOT_LOG_LEVEL ?? '');
  if (debug && error instanceof Error && error.stack) console.error(error.stack);
  else if (!explained.known) console.error('Run with EARSHOT_LOG_LEVEL=debug to see where it failed.');
  process.exit(explained.exitCode);
});

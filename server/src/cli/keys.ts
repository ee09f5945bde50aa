import { parseArgs } from 'node:util';
import { generateApiKey, sha256Hex } from '../auth/keys.js';
import { CliError } from './errors.js';
import { COMMAND_USAGE } from './usage.js';

const USER_NAME = /^[a-z0-9][a-z0-9_-]{0,63}$/i;

/** `earshot keys create NAME`: the one command whose job is to print a key (and its hash, for the server). */
export function keys(argv: string[]): void {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { help: { type: 'boolean', short: 'h' } },
  });
  if (values.help) return void process.stdout.write(`${COMMAND_USAGE.keys}\n`);
  const [action, name, ...extra] = positionals;
  if (action !== 'create') throw new CliError(COMMAND_USAGE.keys, 2);
  if (!name) throw new CliError(`Give the user a name: earshot keys create alice\n${COMMAND_USAGE.keys}`, 2);
  if (extra.length > 0) throw new CliError(`keys create takes one NAME.\n${COMMAND_USAGE.keys}`, 2);
  // The name is not echoed: a malformed one may be a key pasted in the wrong place.
  if (!USER_NAME.test(name))
    throw new CliError(
      'A user name is 1-64 letters, digits, "-" or "_", starting with a letter or digit: earshot keys create alice',
      2,
    );
  const key = generateApiKey(name);
  process.stdout.write(
    `Key for ${name} (give it to them; it is shown once):\n  ${key}\n\n` +
      `Add this entry to EARSHOT_API_KEYS on the server (comma-separated):\n  ${name}:${sha256Hex(key)}\n`,
  );
}

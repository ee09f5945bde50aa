import { readFileSync } from 'node:fs';

export const USAGE = `Usage: earshot <command>

Commands:
  serve              Start the server (MCP at /mcp, player at /). Same as "npm start".
  mcp                MCP over stdio for agents that launch a command (Claude Desktop): bridges to EARSHOT_URL
                     with EARSHOT_API_KEY, or to a local server on PORT (started here if none is running).
  say TEXT [--voice V] [--model M] [--out FILE.wav]
                     Speak through the running server (its players hear it), or write a WAV file.
  keys create NAME   Make a key for user NAME; prints the key and the NAME:sha256 entry for EARSHOT_API_KEYS.
  store init         Make the store ready: SQLite (create, check, import old JSON files) or, with
                     EARSHOT_STORE=dynamodb://TABLE, create the table if missing (the CDK app's schema).
  doctor             Check Node, configuration, data directory, store, keys, the voice engine and the port.
  help, --help       Show this help; "earshot COMMAND --help" shows one command's.
  --version          Print Earshot's version.

Environment: HOST, PORT, ELEVENLABS_API_KEY, ELEVENLABS_BASE_URL, EARSHOT_API_KEY, EARSHOT_API_KEYS,
EARSHOT_DATA_DIR, EARSHOT_STORE, EARSHOT_AUDIO, EARSHOT_URL (earshot mcp), EARSHOT_PUBLIC_URL,
EARSHOT_ALLOWED_ORIGINS, EARSHOT_ALLOWED_HOSTS (see README).`;

/** One line per command, appended to its argument errors and printed by "earshot COMMAND --help". */
export const COMMAND_USAGE = {
  serve: 'Usage: earshot serve (same as "npm start"; HOST, PORT and the rest come from the environment)',
  mcp: 'Usage: earshot mcp (MCP over stdio; EARSHOT_URL, EARSHOT_API_KEY and PORT come from the environment)',
  say: 'Usage: earshot say "text to speak" [--voice NAME] [--model ID] [--out FILE.wav]',
  keys: 'Usage: earshot keys create NAME (NAME: 1-64 letters, digits, "-" or "_")',
  store:
    'Usage: earshot store init (EARSHOT_STORE and EARSHOT_AUDIO, or EARSHOT_DATA_DIR, come from the environment)',
  doctor: 'Usage: earshot doctor',
} as const;

export type Command = keyof typeof COMMAND_USAGE;

/**
 * The version in Earshot's package.json: server/package.json from src/cli and dist/cli (../../), the published
 * package's own from its bundle in dist/ (../). The name check skips any other package.json on the way.
 */
export function earshotVersion(): string {
  for (const path of ['../../package.json', '../package.json']) {
    let pkg: { name?: unknown; version?: unknown };
    try {
      pkg = JSON.parse(readFileSync(new URL(path, import.meta.url), 'utf8')) as typeof pkg;
    } catch {
      continue;
    }
    if (pkg.name === 'earshot' && typeof pkg.version === 'string') return pkg.version;
  }
  return 'unknown';
}

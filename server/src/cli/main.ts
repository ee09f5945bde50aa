#!/usr/bin/env node
import { generateApiKey, sha256Hex } from '../auth/keys.js';
import { ConfigError, loadConfig } from '../config/env.js';
import { createLogger } from '../logger.js';
import { startEarshot, type RunningEarshot } from '../runtime.js';
import { startupBanner } from './banner.js';
import { doctor } from './doctor.js';
import { BridgeError, runMcpStdio } from './mcp-stdio.js';
import { say } from './say.js';

const USAGE = `Usage: earshot <command>

Commands:
  serve              Start the server (MCP at /mcp, player at /). Same as "npm start".
  mcp                MCP over stdio for agents that launch a command (Claude Desktop): bridges to EARSHOT_URL
                     with EARSHOT_API_KEY, or to a local server on PORT (started here if none is running).
  say TEXT [--voice V] [--model M] [--out FILE.wav]
                     Speak through the running server (its players hear it), or write a WAV file.
  keys create NAME   Make a key for user NAME; prints the key and the NAME:sha256 entry for EARSHOT_API_KEYS.
  doctor             Check Node, configuration, data directory, keys, the voice engine and the port.
  help               Show this help.

Environment: HOST, PORT, ELEVENLABS_API_KEY, ELEVENLABS_BASE_URL, EARSHOT_API_KEY, EARSHOT_API_KEYS,
EARSHOT_DATA_DIR, EARSHOT_URL (earshot mcp), EARSHOT_PUBLIC_URL, EARSHOT_ALLOWED_ORIGINS, EARSHOT_ALLOWED_HOSTS (see README).`;

async function serve(): Promise<void> {
  const config = loadConfig(process.env);
  const logger = createLogger(config.logLevel, { pretty: process.stdout.isTTY === true });
  const state: { running?: RunningEarshot; stopping: boolean } = { stopping: false };

  // Handlers go in before anything is printed: whoever reads the banner may signal at once.
  const onSignal = (signal: NodeJS.Signals) => {
    if (state.stopping) {
      logger.warn({ signal }, 'second signal: exiting now');
      process.exit(130);
    }
    state.stopping = true;
    if (!state.running) process.exit(0);
    void state.running.shutdown().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const running = await startEarshot(config, { logger });
  state.running = running;
  if (state.stopping) return void running.shutdown().then(() => process.exit(0));
  process.stdout.write(`${startupBanner(running)}\n`);
}

function keysCreate(name: string | undefined): void {
  if (!name || !/^[a-z0-9][a-z0-9_-]{0,63}$/i.test(name)) {
    throw new ConfigError('Give a user name of letters, digits, "-" or "_": earshot keys create alice');
  }
  const key = generateApiKey();
  process.stdout.write(
    `Key for ${name} (give it to them; it is shown once):\n  ${key}\n\n` +
      `Add this entry to EARSHOT_API_KEYS on the server (comma-separated):\n  ${name}:${sha256Hex(key)}\n`,
  );
}

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'serve':
    case undefined:
      return serve();
    case 'mcp':
      return runMcpStdio(process.env);
    case 'say':
      return say(rest, process.env);
    case 'doctor':
      if (!(await doctor(process.env))) process.exitCode = 1;
      return;
    case 'keys':
      if (rest[0] === 'create') return keysCreate(rest[1]);
      throw new ConfigError('Usage: earshot keys create NAME');
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(`${USAGE}\n`);
      return;
    default:
      throw new ConfigError(`Unknown command "${command}".\n\n${USAGE}`);
  }
}

main(process.argv.slice(2)).catch((error: unknown) => {
  if (error instanceof BridgeError) {
    console.error(error.message);
    process.exit(1);
  }
  if (error instanceof ConfigError) {
    console.error(error.message);
    process.exit(2);
  }
  console.error(error);
  process.exit(1);
});

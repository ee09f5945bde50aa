import { loadConfig, type Config } from '../config/env.js';
import { createLogger } from '../logger.js';
import { startEarshot, type RunningEarshot } from '../runtime.js';
import { startupBanner } from './banner.js';
import { CliError } from './errors.js';
import { isEarshot } from './probe.js';

/** `earshot serve`: listens until SIGINT/SIGTERM, then drains speech in progress and exits 0. */
export async function serve(env: NodeJS.ProcessEnv): Promise<void> {
  const config = loadConfig(env);
  const tty = process.stdout.isTTY === true;
  const logger = createLogger(config.logLevel, { pretty: tty });
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

  let running: RunningEarshot;
  try {
    running = await startEarshot(config, { logger });
  } catch (error) {
    throw await alreadyRunning(error, config);
  }
  state.running = running;
  if (state.stopping) return void running.shutdown().then(() => process.exit(0));
  // The start-up lines (store import, "Server listening") wait in the log's batch: out before the banner.
  await new Promise<void>((resolve) => logger.flush(() => resolve()));
  const keyFile = config.keys.kind === 'generate' ? config.keys.file : undefined;
  process.stdout.write(`${startupBanner(running, { tty, keyFile })}\n`);
}

/** `npm start` run twice: the port is taken by Earshot itself, which deserves its own message. */
async function alreadyRunning(error: unknown, config: Config): Promise<unknown> {
  if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE') return error;
  const host = ['0.0.0.0', '::'].includes(config.host) ? '127.0.0.1' : config.host;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${config.port}`;
  if (!(await isEarshot(url))) return error;
  const next = config.port < 65535 ? config.port + 1 : 8081;
  return new CliError(
    `An Earshot server is already running at ${url}: open ${url}/ to use it.\n` +
      `To run a second one, set PORT to a free port, e.g. PORT=${next} npm start (or earshot serve).`,
    1,
  );
}

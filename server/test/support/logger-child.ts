/**
 * A process that logs through createLogger, for logging.test.ts. Run with
 * `node --import tsx --conditions=@earshot/source logger-child.ts ENDING FLUSH_INTERVAL_MS FD`: logs three info
 * lines ("line" with n = 1, 2, 3, far less than a batch) to file descriptor FD, then ends as ENDING says:
 * - `exit`: process.exit(0) at once;
 * - `end`: nothing left to do, so the event loop runs out;
 * - `uncaught`: an exception nobody catches;
 * - `rejection`: a promise rejection nobody handles;
 * - `warn`: logs a warning and stays up (until killed);
 * - `stay`: stays up (until killed).
 */
import { createLogger } from '../../src/logger.js';

const [ending, flushIntervalMs, fd] = process.argv.slice(2);
if (!ending || !flushIntervalMs || !fd) throw new Error('usage: logger-child.ts ENDING FLUSH_INTERVAL_MS FD');
const logger = createLogger('info', { destination: Number(fd), flushIntervalMs: Number(flushIntervalMs) });
for (let n = 1; n <= 3; n++) logger.info({ n }, 'line');

const stayUp = () => setInterval(() => undefined, 60_000);
switch (ending) {
  case 'exit':
    process.exit(0);
    break;
  case 'end':
    break;
  case 'uncaught':
    setTimeout(() => {
      throw new Error('nobody catches this');
    }, 0);
    break;
  case 'rejection':
    void Promise.reject(new Error('nobody handles this'));
    break;
  case 'warn':
    logger.warn('a warning');
    stayUp();
    break;
  case 'stay':
    stayUp();
    break;
  default:
    throw new Error(`unknown ending ${ending}`);
}

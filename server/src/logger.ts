import pino, { type Logger } from 'pino';

/**
 * Info lines (one per request) are held in memory and written together once this many bytes wait: a write
 * per line (a trip through libuv's thread pool) cost 0.02–0.04 ms of CPU per request (REST GET settings
 * 0.15 → 0.11 ms; issue 11, scenario d). Below sonic-boom's largest write (16 KiB), and small enough that a
 * crash that skips the exit flush (SIGKILL, out of memory) loses a few dozen lines at most.
 */
const BATCH_BYTES = 4096;
/** How long a line may wait in a batch when the server is quiet. */
const FLUSH_INTERVAL_MS = 1000;
/** Warnings and errors are written at once, with every line before them: they are what an operator waits for. */
const FLUSH_AT_LEVEL = pino.levels.values.warn!;

export interface LoggerOptions {
  /** Pretty lines for a person at a terminal (pino-pretty, in a worker thread) instead of JSON lines. */
  readonly pretty?: boolean;
  /** File descriptor the lines go to: 1 (stdout) by default; 2 for `earshot mcp`, whose stdout carries MCP. */
  readonly destination?: number;
  /** How long a line may wait in a batch (tests make it long to prove what flushes without it). @default 1 s */
  readonly flushIntervalMs?: number;
}

/**
 * JSON lines (one per event, with request ids) for machines; pretty lines when a person watches the
 * terminal. Keys never reach the log: the headers that carry them are redacted wherever they appear.
 *
 * JSON lines are batched (see BATCH_BYTES) and none is lost on the way out: a batch is written at least every
 * flushIntervalMs, at once when a warning or error is logged, and synchronously when the process exits —
 * `process.exit` (after a graceful shutdown, or a start-up error), the event loop running out, or an uncaught
 * exception (pino's own exit hook, registered for an asynchronous `pino.destination`).
 */
export function createLogger(level: string, options: LoggerOptions = {}): Logger {
  const redact = {
    paths: [
      'req.headers.authorization',
      'req.headers["sec-websocket-protocol"]',
      'headers.authorization',
      'headers["sec-websocket-protocol"]',
      'apiKey',
      'key',
    ],
    censor: '[redacted]',
  };
  const destination = options.destination ?? 1;
  if (options.pretty) {
    return pino({
      level,
      redact,
      transport: {
        target: 'pino-pretty',
        options: { destination, colorize: true, translateTime: 'HH:MM:ss', ignore: 'pid,hostname' },
      },
    });
  }
  const stream = pino.destination({
    dest: destination,
    sync: false,
    minLength: BATCH_BYTES,
    periodicFlush: options.flushIntervalMs ?? FLUSH_INTERVAL_MS,
  });
  return pino(
    {
      level,
      redact,
      hooks: {
        logMethod(args, write, lineLevel) {
          write.apply(this, args);
          // flush(), not the logger's flush(cb): that one also fsyncs, which a warning does not need.
          if (lineLevel >= FLUSH_AT_LEVEL) stream.flush();
        },
      },
    },
    stream,
  );
}

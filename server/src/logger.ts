import pino, { type Logger } from 'pino';

/**
 * JSON lines (one per event, with request ids) for machines; pretty lines when a person watches the
 * terminal. Keys never reach the log: the headers that carry them are redacted wherever they appear.
 */
export function createLogger(
  level: string,
  options: { pretty?: boolean; destination?: number } = {},
): Logger {
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
  return pino({ level, redact }, pino.destination({ dest: destination, sync: false }));
}

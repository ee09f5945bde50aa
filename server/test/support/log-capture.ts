import pino, { type Logger } from 'pino';

export interface LogLine {
  readonly level: number;
  readonly msg?: string;
  readonly [field: string]: unknown;
}

export interface CapturedLog {
  /** A pino logger (JSON lines, as in production) that keeps every line in memory. */
  readonly logger: Logger;
  /** Every line written so far. */
  lines(): LogLine[];
  /** The raw text written so far, for "never appears anywhere" checks. */
  text(): string;
}

export const LEVEL = { debug: 20, info: 30, warn: 40, error: 50 } as const;

/** Lines are written synchronously, so a test reads them right after the event that logs them. */
export function captureLog(level = 'debug'): CapturedLog {
  const chunks: string[] = [];
  const logger = pino({ level }, { write: (line: string) => void chunks.push(line) });
  const text = () => chunks.join('');
  return {
    logger,
    text,
    lines: () =>
      text()
        .split('\n')
        .filter((line) => line.trim() !== '')
        .map((line) => JSON.parse(line) as LogLine),
  };
}

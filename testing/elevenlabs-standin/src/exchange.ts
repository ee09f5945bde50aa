import type { IncomingMessage, ServerResponse } from 'node:http';

/** One request as the route handlers see it: parsed, authenticated, with helpers to answer. */
export interface Exchange {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly url: URL;
  readonly requestId: string;
  /** The parsed JSON body (undefined for requests without one). */
  readonly body: unknown;
  /** Aborted when the client goes away or the stand-in closes. */
  readonly signal: AbortSignal;
  /** performance.now() when the request arrived. */
  readonly startedAt: number;
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Readonly<Record<string, string>> = {},
): void {
  if (res.headersSent || res.destroyed) return;
  const text = JSON.stringify(body);
  res.writeHead(status, {
    ...headers,
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

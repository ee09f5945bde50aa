import type { ServerResponse } from 'node:http';

/**
 * How often a silent MCP response stream gets a keepalive: a third of CloudFront's 60 s origin read timeout (the
 * tightest proxy in the AWS deployment, see infra/src/constructs/console-site.ts), so two can be lost in a row.
 */
export const SSE_KEEPALIVE_MS = 20_000;

const COMMENT = ': keepalive\n\n';

/**
 * Keeps one MCP response alive while its call is silent — a `speak` waiting for a player's `played`, or queued
 * behind another speech. Proxies cut a response whose origin sends nothing for a while (CloudFront's origin read
 * timeout, nginx's proxy_read_timeout), and the client hanging up cancels the call. So once the response is an
 * event stream, an SSE comment line goes out every `intervalMs`; every SSE parser ignores comments. JSON responses
 * get nothing. Stops by itself when the response ends or closes; the returned function stops it earlier.
 */
export function keepEventStreamAlive(response: ServerResponse, intervalMs = SSE_KEEPALIVE_MS): () => void {
  if (!(Number.isInteger(intervalMs) && intervalMs > 0)) {
    throw new RangeError(`keepalive interval must be a positive integer of ms, got ${intervalMs}`);
  }
  // Also tells nginx not to buffer the stream. Set before the SDK writes its head, it makes Node keep the headers
  // the SDK passes to writeHead readable through getHeader (documented for setHeader + writeHead).
  if (!response.headersSent) response.setHeader('X-Accel-Buffering', 'no');
  const timer = setInterval(() => {
    if (response.writableEnded || response.destroyed) return stop();
    if (response.headersSent && isEventStream(response)) response.write(COMMENT);
  }, intervalMs);
  timer.unref();
  const stop = (): void => clearInterval(timer);
  response.once('close', stop);
  response.once('finish', stop);
  return stop;
}

function isEventStream(response: ServerResponse): boolean {
  const type = response.getHeader('content-type');
  return typeof type === 'string' && type.toLowerCase().startsWith('text/event-stream');
}

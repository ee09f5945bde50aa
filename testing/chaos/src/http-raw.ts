import { connect } from 'node:net';
import { rememberPort } from './ports.js';

/**
 * HTTP/1.1 over a plain socket. Node's own client refuses much of what a fuzzer must send (raw unicode and
 * spaces in paths, invalid header bytes, a Content-Length that lies), so requests are written as bytes and
 * responses parsed just enough to know when they are complete.
 */
export interface RawRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: readonly (readonly [string, string])[];
  readonly body?: Buffer;
  /** Give up (and count a hang) when no complete response arrived by then. */
  readonly deadlineMs: number;
  /** Hang up on purpose after this long (a client that goes away mid-call); not a hang. */
  readonly abortAfterMs?: number;
  /** What sent it (an input's index and label), remembered by client port for leak reports. */
  readonly tag?: string;
}

export type RawOutcome = 'response' | 'timeout' | 'reset' | 'aborted';

export interface RawResponse {
  readonly outcome: RawOutcome;
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  /** The body with chunked framing removed. */
  readonly body: Buffer;
  /** Everything received, for secret scanning. */
  readonly raw: Buffer;
  readonly ms: number;
  readonly error?: string;
}

export function requestBytes(port: number, request: RawRequest): Buffer {
  const hasHost = request.headers.some(([name]) => name.toLowerCase() === 'host');
  const lines = [`${request.method} ${request.path} HTTP/1.1`];
  if (!hasHost) lines.push(`Host: 127.0.0.1:${port}`);
  for (const [name, value] of request.headers) lines.push(`${name}: ${value}`);
  // One request per connection: completion is then unambiguous and no state leaks between inputs.
  if (!request.headers.some(([name]) => name.toLowerCase() === 'connection')) lines.push('Connection: close');
  const hasLength = request.headers.some(([name]) => /^(content-length|transfer-encoding)$/i.test(name));
  if (request.body && !hasLength) lines.push(`Content-Length: ${request.body.length}`);
  // latin1 keeps the exact bytes the generator chose (it encodes non-ASCII itself when it means to).
  return Buffer.concat([
    Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1'),
    request.body ?? Buffer.alloc(0),
  ]);
}

export function sendRaw(port: number, request: RawRequest): Promise<RawResponse> {
  const started = performance.now();
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let settled = false;
    const socket = connect({ host: '127.0.0.1', port });
    const finish = (outcome: RawOutcome, error?: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      if (abort) clearTimeout(abort);
      socket.destroy();
      const raw = Buffer.concat(chunks);
      const parsed = parseResponse(raw);
      resolve({
        outcome: outcome === 'reset' && parsed ? 'response' : outcome,
        status: parsed?.status ?? 0,
        headers: parsed?.headers ?? {},
        body: parsed?.body ?? Buffer.alloc(0),
        raw,
        ms: performance.now() - started,
        ...(error ? { error } : {}),
      });
    };
    const deadline = setTimeout(() => finish('timeout'), request.deadlineMs);
    const abort =
      request.abortAfterMs === undefined
        ? undefined
        : setTimeout(() => finish('aborted'), request.abortAfterMs);
    socket.on('connect', () => {
      rememberPort(socket.localPort, request.tag);
      socket.write(requestBytes(port, request));
    });
    socket.on('data', (data: Buffer) => {
      chunks.push(data);
      if (parseResponse(Buffer.concat(chunks), request.method)?.complete) finish('response');
    });
    socket.on('end', () => finish('reset'));
    socket.on('close', () => finish('reset'));
    socket.on('error', (error) => finish('reset', error.message));
  });
}

export interface ParsedResponse {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: Buffer;
  readonly complete: boolean;
}

/** Status, headers and body of a (possibly partial) response; undefined until the head is in. */
export function parseResponse(raw: Buffer, method = 'GET'): ParsedResponse | undefined {
  const headEnd = raw.indexOf('\r\n\r\n');
  if (headEnd < 0) return undefined;
  const [statusLine, ...headerLines] = raw.subarray(0, headEnd).toString('latin1').split('\r\n');
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine ?? '')?.[1] ?? 0);
  // An interim answer (100 Continue to "Expect: 100-continue") precedes the real one.
  if (status >= 100 && status < 200 && status !== 101)
    return parseResponse(raw.subarray(headEnd + 4), method);
  const headers: Record<string, string> = {};
  for (const line of headerLines) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
  }
  const rest = raw.subarray(headEnd + 4);
  if (method === 'HEAD' || status === 101 || status === 204 || status === 304) {
    return { status, headers, body: Buffer.alloc(0), complete: true };
  }
  if (/chunked/i.test(headers['transfer-encoding'] ?? '')) {
    const { body, complete } = dechunk(rest);
    return { status, headers, body, complete };
  }
  const length = headers['content-length'];
  if (length !== undefined) {
    const expected = Number(length);
    return { status, headers, body: rest.subarray(0, expected), complete: rest.length >= expected };
  }
  // Delimited by the connection closing: complete only at 'end'.
  return { status, headers, body: rest, complete: false };
}

function dechunk(data: Buffer): { body: Buffer; complete: boolean } {
  const parts: Buffer[] = [];
  let offset = 0;
  for (;;) {
    const lineEnd = data.indexOf('\r\n', offset);
    if (lineEnd < 0) return { body: Buffer.concat(parts), complete: false };
    const size = parseInt(data.subarray(offset, lineEnd).toString('latin1'), 16);
    if (!Number.isFinite(size)) return { body: Buffer.concat(parts), complete: false };
    if (size === 0) {
      // Trailers (none expected) end with an empty line.
      return { body: Buffer.concat(parts), complete: data.indexOf('\r\n', lineEnd + 2) >= 0 };
    }
    const start = lineEnd + 2;
    if (data.length < start + size + 2) {
      parts.push(data.subarray(start, Math.min(data.length, start + size)));
      return { body: Buffer.concat(parts), complete: false };
    }
    parts.push(data.subarray(start, start + size));
    offset = start + size + 2;
  }
}

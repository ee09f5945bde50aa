/**
 * The ElevenLabs calls on Earshot's hot path — the timestamped speech stream, the voice list and the model
 * list — over node:http, without the SDK. Loading the SDK (some 11,000 modules) took about a second of every
 * start and 165 MB of memory, and its stream parser (a schema check per line) a tenth of the CPU of 200
 * speeches at once. Same wire format, retries and header timeout as the SDK's; errors have the SDK's shape
 * (`statusCode`, `body`, `rawResponse`), so elevenlabs-errors.ts reads both alike. The rest of the API
 * (studio tools, the subscription) still goes through the SDK, loaded on first use.
 */

import type { IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { createRequire } from 'node:module';

// node:http through require, not an ESM import: Node builds a builtin's ESM namespace from every export, and
// node:http's include lazy getters for the web API (WebSocket, …) that load undici, Node's whole fetch
// stack. Measured: 75 ms to import node:http that way against 8 ms required, ~25 ms of every `earshot serve`
// start, for a stack a start never uses (start-footprint.test.ts checks it stays unloaded).
const { Agent: HttpAgent, request: httpRequest } = createRequire(import.meta.url)(
  'node:http',
) as typeof import('node:http');

const DEFAULT_BASE_URL = 'https://api.elevenlabs.io';
/** Like the SDK's: the first retry after about a second, then doubling; Retry-After when the server says. */
const INITIAL_RETRY_DELAY_MS = 1000;
const MAX_RETRY_DELAY_MS = 60_000;
/**
 * How long an idle kept-alive connection waits for the next request (free ones only: the agent leaves busy
 * sockets be), unless the server announces a shorter `Keep-Alive: timeout=N`, which Node's agent honours less a
 * second. A minute covers an agent that speaks every few seconds to a minute: each speech after the first skips
 * a DNS lookup and the TCP and TLS handshakes (two round trips to ElevenLabs, tens of ms at least from a laptop).
 * Node's own 4-5 s defaults lose that for all but back-to-back speeches. Idle sockets are safe to keep: the agent
 * sends TCP keepalive probes every second (NATs keep their mapping; a dead path is found within ~10 s), a
 * server's close takes the socket out of the pool, and a request that meets a close on its way is sent again
 * (send()).
 */
const IDLE_SOCKET_MS = 60_000;
/** Voice and model lists are read whole; an answer longer than this is refused. */
const MAX_JSON_BYTES = 16 * 1024 * 1024;
/** An error body is read for its code only; more than this is not read. */
const MAX_ERROR_BODY_BYTES = 64 * 1024;
/** One NDJSON line holds a chunk's audio in base64 (tens of KB); a line longer than this is refused. */
export const MAX_STREAM_LINE_BYTES = 8 * 1024 * 1024;
const NEWLINE = 0x0a;

/** ElevenLabs answered with an error status (the SDK's ElevenLabsError has the same fields). */
export class ElevenLabsHttpError extends Error {
  override readonly name = 'ElevenLabsHttpError';
  readonly rawResponse: { readonly headers: HeaderReader };

  constructor(
    readonly statusCode: number,
    readonly body: unknown,
    headers: HeaderReader,
  ) {
    super(`ElevenLabs answered HTTP ${statusCode}`);
    this.rawResponse = { headers };
  }
}

/** No answer (headers) within the timeout; named like the SDK's, which elevenlabs-errors.ts also reads. */
export class ElevenLabsHttpTimeoutError extends Error {
  override readonly name = 'ElevenLabsTimeoutError';
}

export interface ElevenLabsHttpOptions {
  readonly apiKey: string;
  readonly baseUrl?: string;
  /** Retries on 408/429/5xx; only before a response is accepted, so never inside a stream. */
  readonly maxRetries: number;
  /** How long to wait for the response's headers. */
  readonly timeoutMs: number;
}

export interface RequestOptions {
  readonly method?: 'GET' | 'POST';
  readonly query?: Readonly<Record<string, string | number | undefined>>;
  readonly json?: unknown;
  readonly signal?: AbortSignal;
}

/** A response whose headers have arrived; its body is read once, as it arrives. */
export interface UpstreamResponse {
  readonly status: number;
  readonly headers: HeaderReader;
  readonly body: IncomingMessage;
}

/** The one method of fetch's Headers that callers use. */
export interface HeaderReader {
  get(name: string): string | null;
}

/** Where requests go: the base URL's parts, taken apart once rather than a URL object per request. */
interface Endpoint {
  readonly secure: boolean;
  readonly protocol: string;
  readonly hostname: string;
  readonly port: string;
  /** The base URL's path, ending in `/`: a proxy's prefix is kept, paths are joined to it. */
  readonly basePath: string;
}

export class ElevenLabsHttp {
  private readonly endpoint: Endpoint;
  // Keep-alive: a speech reuses a warm connection instead of a new TCP (and TLS) handshake (see IDLE_SOCKET_MS).
  private readonly agents = {
    http: new HttpAgent({ keepAlive: true, timeout: IDLE_SOCKET_MS }),
    https: new HttpsAgent({ keepAlive: true, timeout: IDLE_SOCKET_MS }),
  };

  constructor(private readonly options: ElevenLabsHttpOptions) {
    // A base with a path (a proxy's prefix) keeps it: paths are joined, not replaced.
    const base = new URL((options.baseUrl ?? DEFAULT_BASE_URL).replace(/\/*$/, '/'));
    this.endpoint = {
      secure: base.protocol === 'https:',
      protocol: base.protocol,
      hostname: base.hostname,
      port: base.port,
      basePath: base.pathname,
    };
  }

  /** A successful response (its body unread), after the retries the options allow. */
  async request(path: string, request: RequestOptions = {}): Promise<UpstreamResponse> {
    // Built as a string: a URL object and its search params cost ~35 µs with cold caches, on the way to each
    // speech's first audio. Callers give paths relative to the API (segments already encoded).
    const target = this.endpoint.basePath + path.replace(/^\/+/, '') + queryString(request.query);
    const body = request.json === undefined ? undefined : Buffer.from(JSON.stringify(request.json));
    const headers: Record<string, string | number> = { 'xi-api-key': this.options.apiKey };
    if (body) Object.assign(headers, { 'content-type': 'application/json', 'content-length': body.length });
    for (let attempt = 0; ; attempt++) {
      const response = await this.send(target, request.method ?? 'GET', headers, body, request.signal);
      if (response.status >= 200 && response.status < 300) return response;
      if (attempt < this.options.maxRetries && retryable(response.status)) {
        response.body.destroy();
        await sleep(retryDelayMs(response.headers, attempt), request.signal);
        continue;
      }
      throw new ElevenLabsHttpError(response.status, await readErrorBody(response.body), response.headers);
    }
  }

  /** A JSON answer (read whole: voice and model lists, at most MAX_JSON_BYTES). */
  async json<T>(path: string, request: RequestOptions = {}): Promise<T> {
    const { body } = await this.request(path, request);
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of body as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > MAX_JSON_BYTES) {
        body.destroy();
        throw new Error(`an ElevenLabs answer passed ${MAX_JSON_BYTES} bytes`);
      }
      chunks.push(chunk);
    }
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as T;
  }

  /** Ends the idle keep-alive connections (at shutdown). */
  close(): void {
    this.agents.http.destroy();
    this.agents.https.destroy();
  }

  /**
   * One request, until its headers arrive within the timeout. The caller's signal also ends the body.
   * node:http rather than fetch: no web-stream layer between the socket and the NDJSON parser (fetch's was
   * a twentieth of the CPU of 200 speeches).
   */
  private send(
    target: string,
    method: string,
    headers: Record<string, string | number>,
    body: Buffer | undefined,
    signal: AbortSignal | undefined,
    retriedStale = false,
  ): Promise<UpstreamResponse> {
    return new Promise((resolve, reject) => {
      const { secure, protocol, hostname, port } = this.endpoint;
      // Plain options, not a URL object, and the signal wired by hand, not as http.request's `signal`
      // option (which follows the caller's composite signal through a stream helper): half the cost of making
      // the request (~25 µs of ~50 on Node 24), on every speech's way to ElevenLabs.
      const call = (secure ? httpsRequest : httpRequest)({
        protocol,
        hostname,
        port,
        path: target,
        method,
        headers,
        agent: secure ? this.agents.https : this.agents.http,
      });
      if (signal) {
        // Ends the request and, once it has answered, its body: the caller stopped the speech.
        const abort = () => call.destroy(abortError(signal));
        if (signal.aborted) abort();
        else {
          signal.addEventListener('abort', abort, { once: true });
          call.once('close', () => signal.removeEventListener('abort', abort));
        }
      }
      const timer = setTimeout(
        () =>
          call.destroy(
            new ElevenLabsHttpTimeoutError(`ElevenLabs did not answer in ${this.options.timeoutMs} ms`),
          ),
        this.options.timeoutMs,
      );
      call.once('response', (response) => {
        clearTimeout(timer);
        resolve({ status: response.statusCode ?? 0, headers: headerReader(response), body: response });
      });
      let answered = false;
      call.once('response', () => (answered = true));
      // Kept for the whole request: an error after the headers (a reset mid-stream) must not go unheard.
      call.on('error', (error: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        // A kept-alive connection the server closed as this request went out: the server never read it (no
        // answer came), so it goes once more on a fresh connection, as Node's documentation advises.
        if (
          !answered &&
          !retriedStale &&
          call.reusedSocket &&
          error.code === 'ECONNRESET' &&
          !signal?.aborted
        )
          return resolve(this.send(target, method, headers, body, signal, true));
        reject(error);
      });
      call.end(body);
    });
  }
}

/** Chunks read ahead of a slower reader before the body is paused (a few lines of a stream at most). */
const MAX_CHUNKS_AHEAD = 16;

/**
 * A response body's chunks as they arrive, from its 'data' events. Node's own async iterator over a stream (its
 * 'readable' and end-of-stream machinery) is several times this code, and it runs on the way to every speech's
 * first audio, with cold caches when speeches are minutes apart. Pauses the body while MAX_CHUNKS_AHEAD chunks
 * wait; a body that closes before its end, or fails, throws once the chunks before it are read; a reader that
 * stops early destroys the body (as Node's iterator does).
 */
export async function* chunksOf(body: IncomingMessage): AsyncGenerator<Buffer, void, undefined> {
  const ahead: Buffer[] = [];
  let ended = false;
  let failure: Error | undefined;
  let wake: (() => void) | undefined;
  const notify = () => {
    const waiting = wake;
    wake = undefined;
    waiting?.();
  };
  const onData = (chunk: Buffer) => {
    ahead.push(chunk);
    if (ahead.length >= MAX_CHUNKS_AHEAD) body.pause();
    notify();
  };
  const onEnd = () => {
    ended = true;
    notify();
  };
  const onError = (error: Error) => {
    failure ??= error;
    notify();
  };
  const onClose = () => {
    if (!ended) failure ??= new Error('the response closed before its end');
    notify();
  };
  body.once('end', onEnd).on('error', onError).once('close', onClose);
  // A body that ended or closed before this reader came (the speech was stopped in between) says so now: its
  // events are gone, and waiting for them would hang the speech.
  if (body.readableEnded) ended = true;
  else if (body.destroyed) failure = body.errored ?? new Error('the response closed before its end');
  // What arrived with the headers is read now, not after the turn a 'data' listener waits to start flowing.
  for (let chunk = body.read() as Buffer | null; chunk !== null; chunk = body.read() as Buffer | null)
    ahead.push(chunk);
  body.on('data', onData);
  try {
    for (;;) {
      const chunk = ahead.shift();
      if (chunk !== undefined) {
        if (body.isPaused() && ahead.length < MAX_CHUNKS_AHEAD / 2) body.resume();
        yield chunk;
      } else if (failure) throw failure;
      else if (ended) return;
      else await new Promise<void>((resolve) => (wake = resolve));
    }
  } finally {
    body.off('data', onData).off('end', onEnd).off('close', onClose);
    // Still listening for errors: a destroyed body may emit one, which must not go unhandled.
    if (!ended) body.destroy();
  }
}

/** The error Node's own `signal` option ends a request with (the engines tell a stop by its name). */
function abortError(signal: AbortSignal): Error {
  return Object.assign(new Error('The operation was aborted', { cause: signal.reason }), {
    name: 'AbortError',
    code: 'ABORT_ERR',
  });
}

function headerReader(response: IncomingMessage): HeaderReader {
  return {
    // From rawHeaders, not `response.headers`: Node builds that object from every header on first use (~60 µs
    // with cold caches, on the way to each speech's first audio), and callers want one or two of them.
    // Repeated headers are joined as Node joins most (retry-after: Node keeps the first, parseInt reads it).
    get(name) {
      const wanted = name.toLowerCase();
      const raw = response.rawHeaders;
      let value: string | null = null;
      for (let i = 0; i + 1 < raw.length; i += 2) {
        const header = raw[i]!;
        if (header.length !== wanted.length || header.toLowerCase() !== wanted) continue;
        value = value === null ? raw[i + 1]! : `${value}, ${raw[i + 1]!}`;
      }
      return value;
    },
  };
}

/** `?name=value&…` of the query's defined values (encoded), or '' when there are none. */
function queryString(query: RequestOptions['query']): string {
  let text = '';
  for (const [name, value] of Object.entries(query ?? {})) {
    if (value === undefined) continue;
    text += `${text === '' ? '?' : '&'}${encodeURIComponent(name)}=${encodeURIComponent(String(value))}`;
  }
  return text;
}

function retryable(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

function retryDelayMs(headers: HeaderReader, attempt: number): number {
  const seconds = Number.parseInt(headers.get('retry-after') ?? '', 10);
  if (seconds > 0) return Math.min(seconds * 1000, MAX_RETRY_DELAY_MS);
  const delay = Math.min(INITIAL_RETRY_DELAY_MS * 2 ** attempt, MAX_RETRY_DELAY_MS);
  return delay * (1 + (Math.random() - 0.5) * 0.2);
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    signal?.throwIfAborted();
    const done = () => {
      signal?.removeEventListener('abort', aborted);
      resolve();
    };
    const timer = setTimeout(done, ms);
    const aborted = () => {
      clearTimeout(timer);
      reject(signal!.reason as Error);
    };
    signal?.addEventListener('abort', aborted, { once: true });
  });
}

/** The error body as JSON when it is JSON, else its text; at most MAX_ERROR_BODY_BYTES are read. */
async function readErrorBody(body: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of body as AsyncIterable<Buffer>) {
      chunks.push(chunk);
      size += chunk.length;
      if (size >= MAX_ERROR_BODY_BYTES) break;
    }
  } catch {
    // A body cut short says no more than its status.
  } finally {
    body.destroy();
  }
  const text = Buffer.concat(chunks).toString('utf8', 0, Math.min(size, MAX_ERROR_BODY_BYTES));
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/**
 * Splits NDJSON that arrives in arbitrary pieces into parsed lines, synchronously: a reader that has its own
 * loop over the body (the speech stream) parses in place, without an async generator per layer. Lines are cut
 * on the newline byte and decoded whole (a newline never occurs inside a UTF-8 sequence), so no streaming
 * decoder is made per stream. A line past MAX_STREAM_LINE_BYTES or one that is not JSON throws (the caller
 * reports the stream as broken).
 */
export class NdjsonLines {
  /** The start of the line being received, in pieces, and their length. */
  private pending: Buffer[] = [];
  private pendingBytes = 0;

  /** The lines `chunk` completes, parsed, in order. */
  push(chunk: Uint8Array): unknown[] {
    const bytes = Buffer.isBuffer(chunk)
      ? chunk
      : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    const lines: unknown[] = [];
    let start = 0;
    for (let end = bytes.indexOf(NEWLINE); end >= 0; end = bytes.indexOf(NEWLINE, start)) {
      const line =
        this.pendingBytes === 0 ? bytes.toString('utf8', start, end) : this.take(bytes.subarray(start, end));
      start = end + 1;
      const trimmed = line.trim();
      if (trimmed !== '') lines.push(JSON.parse(trimmed));
    }
    if (start < bytes.length) {
      this.pending.push(bytes.subarray(start));
      this.pendingBytes += bytes.length - start;
      if (this.pendingBytes > MAX_STREAM_LINE_BYTES)
        throw new Error(`a stream line passed ${MAX_STREAM_LINE_BYTES} bytes`);
    }
    return lines;
  }

  /** The last line, when the body did not end with a newline. */
  end(): unknown[] {
    const last = this.take(Buffer.alloc(0)).trim();
    return last === '' ? [] : [JSON.parse(last)];
  }

  /** The pending start of a line joined with its `rest`, decoded; nothing is pending after. */
  private take(rest: Buffer): string {
    const text = Buffer.concat([...this.pending, rest], this.pendingBytes + rest.length).toString('utf8');
    this.pending = [];
    this.pendingBytes = 0;
    return text;
  }
}

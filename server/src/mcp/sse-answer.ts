import { PassThrough, type Readable } from 'node:stream';
import {
  PerRequestHTTPServerTransport,
  type AuthInfo,
  type JSONRPCMessage,
  type JSONRPCRequest,
  type McpServer,
  type MessageClassification,
  type RequestId,
  type Transport,
  type TransportSendOptions,
} from '@modelcontextprotocol/server';

/** The headers the SDK's Streamable HTTP transport puts on a streamed answer. */
export const SSE_ANSWER_HEADERS = {
  'content-type': 'text/event-stream',
  'cache-control': 'no-cache, no-transform',
  connection: 'keep-alive',
  // Tells nginx not to buffer the stream: progress and keepalives must reach the client as they are written.
  'x-accel-buffering': 'no',
} as const;

/** One call's answer as it streams: the SSE body to send, and how to end it when the client hangs up. */
export interface StreamedAnswer {
  readonly body: SseAnswerBody;
  /** The client left before the answer: closes the exchange, which aborts the call's handler. */
  hangUp(): void;
}

/**
 * Serves one plain 2025-revision call in process, its answer streamed as SSE exactly as the SDK's stateless
 * fallback streams it: each message the call sends on the way (progress, log messages) as an `event: message`,
 * then the answer, then the end; a keepalive comment while it is silent. The route has already checked what the
 * SDK's HTTP transport would (Accept, the protocol version, Content-Type through Fastify's JSON parser, the
 * params) and recognised the call by hand (legacy-call.ts). What this skips is the transport's web plumbing: a
 * web Request, a second schema pass over the message, and a web stream wrapped in another, which were a tenth of
 * a speech's CPU under load (`npm run bench`, scenario c). Anything not recognised goes through the SDK.
 */
/**
 * ANSWERED_EXCHANGES_ARE_NOT_CLOSED: a server made for one call is left to the garbage collector once it has
 * answered, not closed. Closing only tears down what an exchange leaves pending (handlers of requests it sent,
 * their timers, the abort controllers of requests it is still handling), and an answered call leaves nothing: the
 * SDK forgets the call's abort controller right after sending its answer. Closed at the moment of the answer, as
 * before, the server aborted that controller (firing the call's signal after it had answered) and built an error
 * with a stack trace for it: ~15 µs of every in-process call. A client that hangs up before the answer still
 * closes the exchange, which aborts the handler.
 */
export async function streamInProcess(
  server: McpServer,
  message: JSONRPCRequest,
  authInfo: AuthInfo,
  keepAliveMs: number,
): Promise<StreamedAnswer> {
  // Closing the server closes its transport, which ends the stream and aborts a handler still running.
  const closeServer = () => void server.close().catch(() => undefined);
  const transport = new SseAnswerTransport(message.id, keepAliveMs);
  await server.connect(transport);
  transport.onmessage?.(message, { authInfo });
  return { body: transport.body, hangUp: closeServer };
}

/** Carries one request in and writes what relates to it out as SSE, until its answer. */
class SseAnswerTransport implements Transport {
  onmessage?: Transport['onmessage'];
  onclose?: () => void;
  onerror?: (error: Error) => void;
  readonly body: SseAnswerBody;
  private closed = false;

  constructor(
    private readonly id: RequestId,
    keepAliveMs: number,
  ) {
    this.body = new SseAnswerBody(keepAliveMs);
  }

  async start(): Promise<void> {}

  async send(message: JSONRPCMessage, options?: TransportSendOptions): Promise<void> {
    if (relatedTo(this.id, message, options) !== undefined) this.body.write(message);
  }

  async close(): Promise<void> {
    this.body.end();
    if (this.closed) return;
    this.closed = true;
    this.onclose?.();
  }
}

/**
 * Whether `message` belongs to the exchange of request `id`: 'answer' for its result or error (which ends the
 * exchange), 'on the way' for what the call sends meanwhile (progress, log messages), undefined for anything else,
 * which would belong on a standalone stream that a stateless server has not got (the SDK's transport drops it too).
 */
function relatedTo(
  id: RequestId,
  message: JSONRPCMessage,
  options: TransportSendOptions | undefined,
): 'answer' | 'on the way' | undefined {
  const answer = 'id' in message && ('result' in message || 'error' in message);
  if (answer) return message.id === id ? 'answer' : undefined;
  return options?.relatedRequestId === id ? 'on the way' : undefined;
}

/** Where an SSE answer's text goes: the HTTP response itself (ServerResponse has both methods), or a stream. */
export interface SseSink {
  write(text: string): unknown;
  end(): unknown;
}

/**
 * An SSE answer's body: each message as an `event: message`, a keepalive comment while silent, the end after the
 * answer. The server that sends it attaches its response (attach), and the text is written to that response as
 * it is produced; a server that wants a stream to send (Fastify's reply) takes readable(). Written straight to
 * the response, a streamed answer needs no stream of its own between the call and the socket: a PassThrough
 * piped with `pipeline` (its end-of-stream watchers, an AbortController, ~45 closures per call held for the
 * speech's length) was 5–8% of the server's CPU for 200 speeches at once (`npm run bench`, scenario c, builds in
 * turn; twenty-third round). What is written before the body is attached (the sender attaches it as soon as the
 * answer is handed over, so a message or two at most) waits, in order, until then.
 */
export class SseAnswerBody {
  private sink: SseSink | undefined;
  private waiting: string[] = [];
  private readonly keepAlive: NodeJS.Timeout | undefined;
  private ended = false;

  constructor(keepAliveMs: number) {
    if (Number.isFinite(keepAliveMs) && keepAliveMs >= 1) {
      // Unref'd, as the SDK's: a silent call must not keep a stopping process alive.
      this.keepAlive = setInterval(() => this.out(': keepalive\n\n'), keepAliveMs).unref();
    }
  }

  /** Sends the body to `sink` from now on, after what was written before (and the end, if it came already). */
  attach(sink: SseSink): void {
    if (this.sink !== undefined) throw new Error('An SSE answer body is sent once.');
    this.sink = sink;
    for (const text of this.waiting) sink.write(text);
    this.waiting = [];
    if (this.ended) sink.end();
  }

  /** The body as a stream to send (attached to it). */
  readable(): Readable {
    const stream = new PassThrough();
    this.attach(stream);
    return stream;
  }

  /** Writes `message`; an answer ends the body (the server is not closed: ANSWERED_EXCHANGES_ARE_NOT_CLOSED). */
  write(message: JSONRPCMessage): void {
    if (this.ended) return;
    this.out(`event: message\ndata: ${JSON.stringify(message)}\n\n`);
    if ('id' in message && ('result' in message || 'error' in message)) this.end();
  }

  /** No more keepalives, and the body ends. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    if (this.keepAlive !== undefined) clearInterval(this.keepAlive);
    this.sink?.end();
  }

  private out(text: string): void {
    if (this.sink === undefined) this.waiting.push(text);
    else this.sink.write(text);
  }
}

/** A 2026-07-28 call's answer, shaped as the SDK's handler shapes it: one JSON body, or an SSE stream. */
export type ModernAnswer =
  | { readonly kind: 'json'; readonly answer: JSONRPCMessage }
  | { readonly kind: 'sse'; readonly body: SseAnswerBody };

/**
 * Serves one plain 2026-07-28 call in process, its answer shaped as the SDK's handler shapes it ('auto' response
 * mode): nothing is sent until the call sends its first message; if that is the answer, it goes as one JSON body,
 * otherwise an SSE stream begins with it, and carries what follows (keepalives while silent), then the answer.
 * The route recognised the call (modern-call.ts), and the transport is the SDK's per-request one, so connecting
 * binds the server to the call's revision as the handler's does; what this skips is the handler's web Request,
 * its web Response and the web stream inside it. Closing the server (the route does when the client hangs up)
 * aborts the call's handler and ends the exchange; the returned promise then rejects if nothing was sent yet.
 */
export async function serveModernInProcess(
  server: McpServer,
  message: JSONRPCRequest,
  classification: MessageClassification,
  authInfo: AuthInfo,
  keepAliveMs: number,
): Promise<ModernAnswer> {
  const transport = new ModernAnswerTransport(message.id, classification, keepAliveMs);
  await server.connect(transport);
  transport.onmessage?.(message, { authInfo, classification });
  return await transport.first;
}

/**
 * The transport of serveModernInProcess. It is the SDK's per-request transport, constructed with the call's
 * classification, because that is what a server reads on connecting to bind itself to the call's revision; its
 * own Request/Response handling (handleMessage) is not used.
 */
class ModernAnswerTransport extends PerRequestHTTPServerTransport {
  private readonly decided = Promise.withResolvers<ModernAnswer>();
  /** Settles with the first message the call sends: the answer itself, or the stream it begins. */
  readonly first = this.decided.promise;
  private stream: SseAnswerBody | undefined;
  private done = false;
  private closed = false;

  constructor(
    private readonly id: RequestId,
    classification: MessageClassification,
    private readonly keepAliveMs: number,
  ) {
    super({ classification });
    this.first.catch(() => undefined);
  }

  override async start(): Promise<void> {}

  override async send(message: JSONRPCMessage, options?: TransportSendOptions): Promise<void> {
    const related = relatedTo(this.id, message, options);
    if (related === undefined || this.done) return;
    if (this.stream === undefined && related === 'answer') {
      this.done = true;
      this.decided.resolve({ kind: 'json', answer: message });
      return;
    }
    if (this.stream === undefined) {
      this.stream = new SseAnswerBody(this.keepAliveMs);
      this.decided.resolve({ kind: 'sse', body: this.stream });
    }
    this.stream.write(message);
    if (related === 'answer') this.done = true;
  }

  override async close(): Promise<void> {
    this.done = true;
    this.stream?.end();
    this.decided.reject(new Error('The MCP server closed before it answered.'));
    if (this.closed) return;
    this.closed = true;
    this.onclose?.();
  }
}

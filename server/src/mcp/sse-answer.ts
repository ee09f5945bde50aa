import { PassThrough } from 'node:stream';
import type {
  AuthInfo,
  JSONRPCMessage,
  JSONRPCRequest,
  McpServer,
  RequestId,
  Transport,
  TransportSendOptions,
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
  readonly body: PassThrough;
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
  readonly body = new PassThrough();
  private readonly keepAlive: NodeJS.Timeout | undefined;
  private ended = false;
  private closed = false;

  constructor(
    private readonly id: RequestId,
    keepAliveMs: number,
  ) {
    if (Number.isFinite(keepAliveMs) && keepAliveMs >= 1) {
      // Unref'd, as the SDK's: a silent call must not keep a stopping process alive.
      this.keepAlive = setInterval(() => this.body.write(': keepalive\n\n'), keepAliveMs).unref();
    }
  }

  async start(): Promise<void> {}

  async send(message: JSONRPCMessage, options?: TransportSendOptions): Promise<void> {
    if (this.ended) return;
    const answer = 'id' in message && ('result' in message || 'error' in message);
    // What the call sends on its way names it; anything else would belong on a standalone stream, which a
    // stateless server has not got (the SDK's transport drops it too).
    if (!(answer ? message.id === this.id : options?.relatedRequestId === this.id)) return;
    this.body.write(`event: message\ndata: ${JSON.stringify(message)}\n\n`);
    // The answer ends the stream; the server is not closed (ANSWERED_EXCHANGES_ARE_NOT_CLOSED).
    if (answer) this.end();
  }

  async close(): Promise<void> {
    this.end();
    if (this.closed) return;
    this.closed = true;
    this.onclose?.();
  }

  /** No more keepalives, and the body ends. */
  private end(): void {
    if (this.ended) return;
    this.ended = true;
    if (this.keepAlive !== undefined) clearInterval(this.keepAlive);
    this.body.end();
  }
}

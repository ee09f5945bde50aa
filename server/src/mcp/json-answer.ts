import {
  PerRequestHTTPServerTransport,
  WebStandardStreamableHTTPServerTransport,
  type AuthInfo,
  type JSONRPCMessage,
  type JSONRPCRequest,
  type McpServer,
  type MessageClassification,
  type RequestId,
  type Transport,
} from '@modelcontextprotocol/server';

/**
 * Serves one 2025-revision request with its answer as a single JSON body, as the Streamable HTTP transport
 * allows. The SDK's stateless fallback always streams its answer as SSE (a stream wrapped in a second one, with
 * a keepalive timer), which is right for a call that sends progress or log messages on the way, and costs a
 * quick call that sends none about a tenth of its CPU. Used only for tools that declare they answer at once.
 */
export async function answerWithJson(
  server: McpServer,
  request: Request,
  parsedBody: unknown,
  authInfo: AuthInfo,
): Promise<Response> {
  const transport = new WebStandardStreamableHTTPServerTransport({
    sessionIdGenerator: undefined,
    enableJsonResponse: true,
  });
  await server.connect(transport);
  try {
    return await transport.handleRequest(request, { authInfo, parsedBody });
  } finally {
    void transport.close().catch(() => undefined);
    void server.close().catch(() => undefined);
  }
}

/**
 * Serves one plain 2025-revision call in process, its answer the JSON-RPC message itself. The route has already
 * checked everything the SDK's HTTP transport would (Accept, the protocol version, Content-Type through Fastify's
 * JSON parser, the params through envelope.ts), and the call was recognised by hand as one the SDK's fallback
 * dispatches (legacy-call.ts): the transport's second schema pass over the message, its web Request and Response
 * were a fifth of such a call's CPU. Anything not recognised goes through answerWithJson.
 */
export async function answerInProcess(
  server: McpServer,
  message: JSONRPCRequest,
  authInfo: AuthInfo,
): Promise<JSONRPCMessage> {
  const transport = new OneAnswerTransport(message.id);
  await server.connect(transport);
  transport.onmessage?.(message, { authInfo });
  // Not closed once answered (see ANSWERED_EXCHANGES_ARE_NOT_CLOSED in sse-answer.ts).
  return await transport.answer;
}

/**
 * Serves one plain 2026-07-28 quick call in process, its answer the JSON-RPC message itself, as the SDK's handler
 * answers a call that sends nothing on the way (one JSON body). The route recognised the call (modern-call.ts):
 * the SDK classified its envelope, and its headers leave the handler nothing to refuse. The transport is the SDK's
 * per-request one, so connecting binds the server to the call's revision exactly as the handler's does; what
 * this skips is the web Request the handler needs and the web Response it makes, ~0.3 ms of such a call's CPU.
 */
export async function answerModernInProcess(
  server: McpServer,
  message: JSONRPCRequest,
  classification: MessageClassification,
  authInfo: AuthInfo,
): Promise<JSONRPCMessage> {
  const transport = new ModernAnswerTransport(message.id, classification);
  await server.connect(transport);
  transport.onmessage?.(message, { authInfo, classification });
  // Not closed once answered (see ANSWERED_EXCHANGES_ARE_NOT_CLOSED in sse-answer.ts).
  return await transport.answer;
}

/** The answer to one request: the first result or error naming it, or a failure if the exchange closes first. */
class OneAnswer {
  private readonly answered = Promise.withResolvers<JSONRPCMessage>();
  readonly promise = this.answered.promise;

  constructor(private readonly id: RequestId) {
    this.promise.catch(() => undefined);
  }

  offer(message: JSONRPCMessage): void {
    // Only the answer to the call: a JSON body has nowhere to put anything else, as the SDK's transport says too.
    if ('id' in message && message.id === this.id && ('result' in message || 'error' in message))
      this.answered.resolve(message);
  }

  fail(): void {
    this.answered.reject(new Error('The MCP server closed before it answered.'));
  }
}

/** Carries one request in and its answer out; a quick tool sends nothing else on the way. */
class OneAnswerTransport implements Transport {
  onmessage?: Transport['onmessage'];
  onclose?: () => void;
  onerror?: (error: Error) => void;
  private readonly one: OneAnswer;
  readonly answer: Promise<JSONRPCMessage>;

  constructor(id: RequestId) {
    this.one = new OneAnswer(id);
    this.answer = this.one.promise;
  }

  async start(): Promise<void> {}

  async send(message: JSONRPCMessage): Promise<void> {
    this.one.offer(message);
  }

  async close(): Promise<void> {
    this.one.fail();
    this.onclose?.();
  }
}

/**
 * OneAnswerTransport for a 2026-07-28 call. It is the SDK's per-request transport, constructed with the call's
 * classification, because that is what a server reads on connecting to bind itself to the call's revision; its
 * own Request/Response handling (handleMessage) is not used.
 */
class ModernAnswerTransport extends PerRequestHTTPServerTransport {
  private readonly one: OneAnswer;
  readonly answer: Promise<JSONRPCMessage>;

  constructor(id: RequestId, classification: MessageClassification) {
    super({ classification, responseMode: 'json' });
    this.one = new OneAnswer(id);
    this.answer = this.one.promise;
  }

  override async start(): Promise<void> {}

  override async send(message: JSONRPCMessage): Promise<void> {
    this.one.offer(message);
  }

  override async close(): Promise<void> {
    this.one.fail();
    this.onclose?.();
  }
}

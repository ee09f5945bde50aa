import {
  WebStandardStreamableHTTPServerTransport,
  type AuthInfo,
  type JSONRPCMessage,
  type JSONRPCRequest,
  type McpServer,
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

/** Carries one request in and its answer out; a quick tool sends nothing else on the way. */
class OneAnswerTransport implements Transport {
  onmessage?: Transport['onmessage'];
  onclose?: () => void;
  onerror?: (error: Error) => void;
  private readonly answered = Promise.withResolvers<JSONRPCMessage>();
  readonly answer = this.answered.promise;

  constructor(private readonly id: RequestId) {
    this.answer.catch(() => undefined);
  }

  async start(): Promise<void> {}

  async send(message: JSONRPCMessage): Promise<void> {
    // Only the answer to the call: a JSON body has nowhere to put anything else, as the SDK's transport says too.
    if ('id' in message && message.id === this.id && ('result' in message || 'error' in message))
      this.answered.resolve(message);
  }

  async close(): Promise<void> {
    this.answered.reject(new Error('The MCP server closed before it answered.'));
    this.onclose?.();
  }
}

import {
  WebStandardStreamableHTTPServerTransport,
  type AuthInfo,
  type McpServer,
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

import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { FastifyInstance, FastifyReply, FastifyRequest, onRequestAsyncHookHandler } from 'fastify';
import type { ToolDeps } from './context.js';
import { answerableId, invalidRequestParams, oversizedEnvelopeField } from './envelope.js';
import { describeBody } from './in-flight.js';
import { keepEventStreamAlive, SSE_KEEPALIVE_MS } from './keepalive.js';
import { createMcpServer } from './server.js';

export interface McpRouteOptions {
  readonly deps: ToolDeps;
  /**
   * An onRequest hook that sets `request.user` or replies 401. It runs before the body is read, so a caller
   * without a key never gets a body parsed (or buffered).
   */
  readonly authenticate: onRequestAsyncHookHandler;
  /** How often a silent SSE response gets a keepalive comment (see keepalive.ts). @default SSE_KEEPALIVE_MS */
  readonly sseKeepaliveMs?: number;
}

/**
 * MCP Streamable HTTP at /mcp, stateless: each POST gets its own server and transport, so any instance
 * can answer any call and nothing is kept between requests.
 */
export function registerMcpRoute(app: FastifyInstance, options: McpRouteOptions): void {
  app.post('/mcp', { onRequest: options.authenticate }, async (request, reply) => {
    const user = request.user;
    const oversized = oversizedEnvelopeField(request.body);
    if (oversized !== undefined) {
      return reply.code(400).send({
        jsonrpc: '2.0',
        error: { code: -32602, message: `Invalid request: ${oversized}.` },
        id: answerableId(request.body),
      });
    }
    const invalid = invalidRequestParams(request.body);
    if (invalid !== undefined) {
      // A JSON-RPC error, not an HTTP one: the request arrived fine, its params are wrong.
      return reply.code(200).send({
        jsonrpc: '2.0',
        error: { code: -32602, message: `Invalid params: ${invalid}.` },
        id: answerableId(request.body),
      });
    }
    const { requestId, cancels } = describeBody(request.body);
    if (cancels !== undefined) options.deps.inFlight.cancel(user, cancels);
    const server = createMcpServer(options.deps, { user });
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
    // Headers set by hooks (CORS, security) live on the Fastify reply; a hijacked reply must carry them itself.
    for (const [name, value] of Object.entries(reply.getHeaders())) {
      if (value !== undefined) reply.raw.setHeader(name, value);
    }
    reply.hijack();
    keepEventStreamAlive(reply.raw, options.sseKeepaliveMs ?? SSE_KEEPALIVE_MS);
    reply.raw.on('close', () => {
      // The client hung up before its answer was complete: treat it as a cancellation of that call.
      if (!reply.raw.writableFinished && requestId !== undefined)
        options.deps.inFlight.cancel(user, requestId);
      void transport.close();
      void server.close();
    });
    try {
      await server.connect(transport);
      await transport.handleRequest(request.raw, reply.raw, request.body);
    } catch (error) {
      request.log.error({ err: error }, 'MCP request failed');
      if (!reply.raw.headersSent) {
        reply.raw.writeHead(500, { 'content-type': 'application/json' });
        reply.raw.end(
          JSON.stringify({
            jsonrpc: '2.0',
            error: { code: -32603, message: 'Internal server error' },
            id: null,
          }),
        );
      }
    }
  });

  // Stateless: no standalone SSE stream to open (GET) and no session to end (DELETE).
  const notAllowed = async (_request: FastifyRequest, reply: FastifyReply) =>
    reply
      .code(405)
      .header('allow', 'POST')
      .send({
        jsonrpc: '2.0',
        error: { code: -32000, message: 'Method not allowed: this server is stateless; use POST.' },
        id: null,
      });
  app.get('/mcp', { onRequest: options.authenticate }, notAllowed);
  app.delete('/mcp', { onRequest: options.authenticate }, notAllowed);
}

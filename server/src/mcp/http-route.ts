import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ToolDeps } from './context.js';
import { describeBody } from './in-flight.js';
import { createMcpServer } from './server.js';

export interface McpRouteOptions {
  readonly deps: ToolDeps;
  /** Resolves the caller's user or replies 401 (and returns undefined). */
  readonly authenticate: (request: FastifyRequest, reply: FastifyReply) => string | undefined;
}

/**
 * MCP Streamable HTTP at /mcp, stateless: each POST gets its own server and transport, so any instance
 * can answer any call and nothing is kept between requests.
 */
export function registerMcpRoute(app: FastifyInstance, options: McpRouteOptions): void {
  app.post('/mcp', async (request, reply) => {
    const user = options.authenticate(request, reply);
    if (user === undefined) return reply;
    const { requestId, cancels } = describeBody(request.body);
    if (cancels !== undefined) options.deps.inFlight.cancel(user, cancels);
    const server = createMcpServer(options.deps, { user });
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
    // Headers set by hooks (CORS, security) live on the Fastify reply; a hijacked reply must carry them itself.
    for (const [name, value] of Object.entries(reply.getHeaders())) {
      if (value !== undefined) reply.raw.setHeader(name, value);
    }
    reply.hijack();
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
  const notAllowed = async (request: FastifyRequest, reply: FastifyReply) => {
    if (options.authenticate(request, reply) === undefined) return reply;
    return reply
      .code(405)
      .header('allow', 'POST')
      .send({
        jsonrpc: '2.0',
        error: { code: -32000, message: 'Method not allowed: this server is stateless; use POST.' },
        id: null,
      });
  };
  app.get('/mcp', notAllowed);
  app.delete('/mcp', notAllowed);
}

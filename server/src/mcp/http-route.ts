import type { FastifyInstance, FastifyReply, FastifyRequest, onRequestHookHandler } from 'fastify';
import { createMcpPostHandler, type McpPostHandlerWithSurface, type McpPostOptions } from './post-handler.js';
import { SseAnswerBody } from './sse-answer.js';

export interface McpRouteOptions extends Omit<McpPostOptions, 'log'> {
  /**
   * An onRequest hook that sets `request.user` or replies 401. It runs before the body is read, so a caller
   * without a key never gets a body parsed (or buffered).
   */
  readonly authenticate: onRequestHookHandler;
}

/**
 * MCP at /mcp as Fastify routes: POST answered by the post handler (post-handler.ts), GET and DELETE refused
 * (stateless). Returns the handler, which the direct path for the common call serves too (http/mcp-direct.ts),
 * with the MCP surface it serves from (`earshot mcp` serves its own stdio from it).
 */
export function registerMcpRoute(app: FastifyInstance, options: McpRouteOptions): McpPostHandlerWithSurface {
  const handler = createMcpPostHandler({ ...options, log: app.log });
  app.addHook('onClose', async () => handler.close());

  app.post('/mcp', { onRequest: options.authenticate }, async (request, reply) => {
    const answer = await handler.answer({
      user: request.user,
      body: request.body,
      method: request.method,
      url: request.url,
      headers: request.headers,
      response: reply.raw,
    });
    // Through Fastify, so the hooks' headers (CORS, security) and the request log apply.
    const body = answer.body instanceof SseAnswerBody ? answer.body.readable() : answer.body;
    return reply.code(answer.status).headers(answer.headers).send(body);
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
  return handler;
}

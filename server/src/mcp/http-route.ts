import type { IncomingHttpHeaders } from 'node:http';
import {
  createMcpHandler,
  ProtocolError,
  SUPPORTED_PROTOCOL_VERSIONS,
  type AuthInfo,
} from '@modelcontextprotocol/server';
import type { FastifyInstance, FastifyReply, FastifyRequest, onRequestAsyncHookHandler } from 'fastify';
import type { ToolDeps } from './context.js';
import { answerableId, invalidRequestParams, oversizedEnvelopeField } from './envelope.js';
import { describeBody } from './in-flight.js';
import { SSE_KEEPALIVE_MS } from './keepalive.js';
import { createEarshotMcp } from './server.js';
import type { BegunCall } from './tool-set.js';
import { OneTurnAtATime } from './one-turn-at-a-time.js';

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
 * MCP Streamable HTTP at /mcp, stateless. The SDK's handler classifies each POST: a request carrying the
 * 2026-07-28 `_meta` envelope is served on that revision (no initialize, `server/discover`), anything else by
 * the 2025 revisions' stateless fallback. Either way each POST gets its own server from a factory whose tools
 * were built once, so any instance can answer any call and nothing is kept between requests.
 *
 * A tool call that streams speech is begun when the SDK asks for the request's server (it has accepted the
 * request by then), so the upstream request leaves before the SDK's own work for the call; that work then waits
 * one turn of the event loop, letting other requests that arrived at the same moment begin theirs first.
 */
export function registerMcpRoute(app: FastifyInstance, options: McpRouteOptions): void {
  const mcp = createEarshotMcp(options.deps);
  // The tool call a request carries, by the web request handed to the SDK (which passes that object back).
  const calls = new WeakMap<Request, ToolCallRequest>();
  const afterWaitingIo = new OneTurnAtATime();
  const handler = createMcpHandler(
    async ({ authInfo, era, requestInfo }) => {
      const user = userOf(authInfo);
      const call = requestInfo && calls.get(requestInfo);
      if (call === undefined) return mcp.server(user, era);
      // The 2025 fallback asks for the server before its transport checks the headers: begin only what it
      // will then dispatch.
      if (era === 'modern' || legacyTransportAccepts(requestInfo!)) {
        call.begun = mcp.begin(call.tool, call.args, user);
        if (call.begun !== undefined) await afterWaitingIo.turn();
      }
      return mcp.server(user, era, call.tool, call.begun);
    },
    {
      // SSE comment frames on a streamed answer, so proxies do not cut a silent call (see keepalive.ts).
      keepAliveMs: options.sseKeepaliveMs ?? SSE_KEEPALIVE_MS,
      onerror: (error) => {
        // A refused request (bad headers, an unknown revision) is the client's mistake and answered as such;
        // anything else is a failure of ours, answered 500.
        if (isRefusal(error)) app.log.debug({ err: error }, 'MCP request refused');
        else app.log.error({ err: error }, 'MCP request failed');
      },
    },
  );
  app.addHook('onClose', async () => handler.close());

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
    const hangUp = new AbortController();
    const call = toolCall(request.body);
    reply.raw.on('close', () => {
      // Work begun for a call the SDK then never dispatched (refused, or the client left first) is undone.
      call?.begun?.abandon();
      if (reply.raw.writableFinished) return;
      // The client hung up before its answer was complete: that cancels the call (the 2026-07-28 way to cancel).
      hangUp.abort();
      if (requestId !== undefined) options.deps.inFlight.cancel(user, requestId);
    });
    const web = webRequest(request, hangUp.signal);
    if (call !== undefined) calls.set(web, call);
    const response = await handler.fetch(web, {
      parsedBody: request.body,
      authInfo: callerAuth(user),
    });
    return sendResponse(reply, response);
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

/**
 * The SDK's handler is web-standard. Fastify has already read and parsed the body (after auth, within its
 * limit), so the request handed over carries the headers, method and hang-up signal, and the parsed body rides
 * beside it; the URL is not used.
 */
function webRequest(request: FastifyRequest, signal: AbortSignal): Request {
  return new Request(`http://localhost${request.url}`, {
    method: request.method,
    headers: webHeaders(request.headers),
    signal,
  });
}

function isRefusal(error: Error): boolean {
  return error instanceof ProtocolError || /^(Rejected|Unsupported)\b/.test(error.message);
}

interface ToolCallRequest {
  readonly tool: string;
  readonly args: unknown;
  /** What the tool began for this call, once the SDK asked for its server. */
  begun?: BegunCall | undefined;
}

/** The tool call a body makes when it is a single tools/call request. */
function toolCall(body: unknown): ToolCallRequest | undefined {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return undefined;
  const message = body as { method?: unknown; params?: { name?: unknown; arguments?: unknown } };
  if (message.method !== 'tools/call') return undefined;
  const tool = message.params?.name;
  return typeof tool === 'string' ? { tool, args: message.params?.arguments } : undefined;
}

/**
 * What the SDK's 2025 transport checks before it dispatches a request (its Accept and protocol version
 * headers; the body is JSON already). A request failing them is refused, so nothing may be begun for it.
 */
function legacyTransportAccepts(request: Request): boolean {
  const accept = request.headers.get('accept') ?? '';
  const revision = request.headers.get('mcp-protocol-version');
  return (
    accept.includes('application/json') &&
    accept.includes('text/event-stream') &&
    (revision === null || SUPPORTED_PROTOCOL_VERSIONS.includes(revision))
  );
}

/** Headers that describe the Node connection or the already-read body, not the MCP request. */
const NOT_FORWARDED = new Set(['host', 'connection', 'content-length', 'transfer-encoding', 'keep-alive']);

function webHeaders(headers: IncomingHttpHeaders): Headers {
  const web = new Headers();
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || NOT_FORWARDED.has(name)) continue;
    if (Array.isArray(value)) for (const item of value) web.append(name, item);
    else web.set(name, value);
  }
  return web;
}

/**
 * Sends the SDK's answer through Fastify, so the hooks' headers (CORS, security) and the request log apply. A
 * JSON answer goes out as one string (one socket write, with its length); a streamed answer (SSE: progress,
 * log messages, then the result) is piped as it is produced, and this is where its stream passes.
 */
async function sendResponse(reply: FastifyReply, response: Response): Promise<FastifyReply> {
  reply.code(response.status);
  response.headers.forEach((value, name) => void reply.header(name, value));
  if (!response.body) return reply.send();
  if (response.headers.get('content-type')?.startsWith('text/event-stream')) {
    // Tells nginx not to buffer the stream: progress and keepalives must reach the client as they are written.
    return reply.header('x-accel-buffering', 'no').send(response.body);
  }
  return reply.send(await response.text());
}

/**
 * Who the request acts for, as the SDK passes it to the server factory. Earshot authenticated the key before
 * the body was read; the key itself is never handed on.
 */
function callerAuth(user: string): AuthInfo {
  return { token: '', clientId: user, scopes: [] };
}

function userOf(authInfo: AuthInfo | undefined): string {
  if (authInfo === undefined) throw new Error('An MCP request reached the server factory without a caller.');
  return authInfo.clientId;
}

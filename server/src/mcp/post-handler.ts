import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import {
  classifyInboundRequest,
  createMcpHandler,
  ProtocolError,
  SUPPORTED_PROTOCOL_VERSIONS,
  type AuthInfo,
  type InboundHttpRequest,
  type JSONRPCRequest,
} from '@modelcontextprotocol/server';
import type { ToolDeps } from './context.js';
import { answerableId, invalidRequestParams, oversizedEnvelopeField } from './envelope.js';
import { describeBody, type RequestId } from './in-flight.js';
import { SSE_KEEPALIVE_MS } from './keepalive.js';
import { createEarshotMcp, type EarshotMcp } from './server.js';
import type { BegunCall } from './tool-set.js';
import { BehindNewCalls } from './behind-new-calls.js';
import { answerInProcess, answerWithJson } from './json-answer.js';
import { claimsModernRevision, isPlainLegacyToolCall } from './legacy-call.js';
import { plainModernToolCall } from './modern-call.js';
import {
  serveModernInProcess,
  SSE_ANSWER_HEADERS,
  streamInProcess,
  type SseAnswerBody,
} from './sse-answer.js';

export interface McpPostOptions {
  readonly deps: ToolDeps;
  /** Where refused and failed MCP requests are logged (the SDK handler's errors). */
  readonly log: {
    debug(details: object, message: string): void;
    error(details: object, message: string): void;
  };
  /** How often a silent SSE response gets a keepalive comment (see keepalive.ts). @default SSE_KEEPALIVE_MS */
  readonly sseKeepaliveMs?: number;
  /** BehindNewCalls' clock (see StartOptions.mcpTurnClock). @default performance.now */
  readonly turnClock?: () => number;
}

/** One authenticated POST /mcp whose JSON body has been read and parsed, whichever server read it. */
export interface McpPost {
  /** The user the request's credential belongs to. */
  readonly user: string;
  readonly body: unknown;
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  /** The response the answer will go to: its close before the answer is complete is the client hanging up. */
  readonly response: ServerResponse;
}

/**
 * What to answer, for the caller to send: its status, its headers (content type included: JSON answers carry
 * their charset, as Fastify would add it) and its body, one JSON text or a stream written as it is produced.
 */
export interface McpAnswer {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  /** An SSE answer served in process is written to the response as it is produced (see SseAnswerBody). */
  readonly body?: string | Readable | ReadableStream<Uint8Array> | SseAnswerBody;
}

/** Serves POST /mcp; `close` ends the SDK handler's streams (at shutdown). */
export interface McpPostHandler {
  answer(post: McpPost): Promise<McpAnswer>;
  close(): Promise<void>;
}

/** The post handler, with the MCP surface it serves from (for connections that are not HTTP: stdio). */
export interface McpPostHandlerWithSurface extends McpPostHandler {
  readonly mcp: EarshotMcp;
}

const JSON_TYPE = 'application/json; charset=utf-8';

/**
 * MCP Streamable HTTP at /mcp, stateless: what a POST is answered, once the server that took it (Fastify's route,
 * http-route.ts, or the direct path for the common call, http/mcp-direct.ts) has authenticated it and read its
 * body. The SDK's handler classifies each POST: a request carrying the
 * 2026-07-28 `_meta` envelope is served on that revision (no initialize, `server/discover`), anything else by
 * the 2025 revisions' stateless fallback. Either way each POST gets its own server from a factory whose tools
 * were built once, so any instance can answer any call and nothing is kept between requests.
 *
 * A plain tools/call skips the SDK's HTTP plumbing and is served in process (json-answer.ts, sse-answer.ts): a 2025
 * one recognised by hand (legacy-call.ts), the route having checked what the SDK's transport would; a 2026-07-28
 * one classified by the SDK, the route having checked the standard headers the handler would (modern-call.ts).
 *
 * A tool call that streams speech is begun before the SDK's own work for the call, so its upstream request
 * leaves first: a plain call as soon as the route has recognised it, another 2025 call when the SDK's fallback
 * will dispatch it, another 2026-07-28 call when the SDK, having checked it, asks for the request's server. The
 * SDK's work then waits while new calls keep arriving (BehindNewCalls), so a burst of calls all begin their
 * speeches first.
 */
export function createMcpPostHandler(options: McpPostOptions): McpPostHandlerWithSurface {
  const mcp = createEarshotMcp(options.deps);
  const keepAliveMs = options.sseKeepaliveMs ?? SSE_KEEPALIVE_MS;
  // The tool call a request carries, by the web request handed to the SDK (which passes that object back).
  const calls = new WeakMap<Request, ToolCallRequest>();
  const behindNewCalls = new BehindNewCalls(options.turnClock && { now: options.turnClock });
  /** Begins `call` for `user` (see ToolSet.begin), then waits while new calls keep arriving. */
  const begin = async (call: ToolCallRequest, user: string) => {
    call.begun = mcp.begin(call.tool, call.args, user);
    if (call.begun === undefined) return;
    // Until its handler takes over (and registers itself), a notifications/cancelled naming the call stops it.
    if (call.requestId !== undefined) {
      const begun = call.begun;
      call.unregister = options.deps.inFlight.register(user, call.requestId, () => begun.abandon());
    }
    await behindNewCalls.turn();
  };
  const handler = createMcpHandler(
    async ({ authInfo, era, requestInfo }) => {
      const user = userOf(authInfo);
      const call = requestInfo && calls.get(requestInfo);
      if (call === undefined) return mcp.server(user, era);
      // A 2026-07-28 call is begun here, once the SDK has checked its envelope and headers (a plain one never
      // comes here, and a 2025 one was begun by the route already, or will not be).
      if (era === 'modern' && call.begun === undefined) await begin(call, user);
      return mcp.server(user, era, call.tool, call.begun);
    },
    {
      // SSE comment frames on a streamed answer, so proxies do not cut a silent call (see keepalive.ts).
      keepAliveMs,
      onerror: (error) => {
        // A refused request (bad headers, an unknown revision) is the client's mistake and answered as such;
        // anything else is a failure of ours, answered 500.
        if (isRefusal(error)) options.log.debug({ err: error }, 'MCP request refused');
        else options.log.error({ err: error }, 'MCP request failed');
      },
    },
  );

  const answer = async (request: McpPost): Promise<McpAnswer> => {
    const user = request.user;
    const oversized = oversizedEnvelopeField(request.body);
    if (oversized !== undefined) return invalidParams(400, `Invalid request: ${oversized}.`, request.body);
    const invalid = invalidRequestParams(request.body);
    // A JSON-RPC error, not an HTTP one: the request arrived fine, its params are wrong.
    if (invalid !== undefined) return invalidParams(200, `Invalid params: ${invalid}.`, request.body);
    const { requestId, cancels } = describeBody(request.body);
    if (cancels !== undefined) options.deps.inFlight.cancel(user, cancels);
    const hangUp = new AbortController();
    const call = toolCall(request.body);
    request.response.on('close', () => {
      // Work begun for a call the SDK then never dispatched (refused, or the client left first) is undone.
      call?.begun?.abandon();
      call?.unregister?.();
      if (request.response.writableFinished) return;
      // The client hung up before its answer was complete: that cancels the call (the 2026-07-28 way to cancel).
      hangUp.abort();
      if (requestId !== undefined) options.deps.inFlight.cancel(user, requestId);
    });
    // How the SDK's 2025 fallback would take this call. Only a call recognised by hand, or one that could begin or
    // be answered at once, is classified here; the others leave that to the SDK alone.
    const inbound = call === undefined ? undefined : inboundRequest(request);
    const legacy =
      call === undefined || inbound === undefined
        ? undefined
        : legacyDispatch(inbound, request.headers, mcp.begins(call.tool) || mcp.answersAtOnce(call.tool));
    if (call !== undefined && legacy !== undefined && mcp.begins(call.tool)) {
      // The SDK's fallback dispatches whatever its transport accepts: begin now, before the SDK's own work.
      await begin(call, user);
    }
    if (call !== undefined && legacy === 'plain') {
      // A plain 2025 call is served in process: a quick one with one JSON body (it sends nothing on the way),
      // any other as an SSE stream (progress and log messages, then its answer).
      const server = mcp.server(user, 'legacy', call.tool, call.begun);
      const message = request.body as JSONRPCRequest;
      if (mcp.answersAtOnce(call.tool)) {
        return jsonAnswer(200, await answerInProcess(server, message, callerAuth(user)));
      }
      const streamed = await streamInProcess(server, message, callerAuth(user), keepAliveMs);
      hangUp.signal.addEventListener('abort', () => streamed.hangUp(), { once: true });
      return { status: 200, headers: SSE_ANSWER_HEADERS, body: streamed.body };
    }
    const modern = call !== undefined && inbound !== undefined && legacy === undefined && mcp.has(call.tool);
    const classification = modern ? plainModernToolCall(inbound) : undefined;
    if (call !== undefined && classification !== undefined) {
      // A plain 2026-07-28 call is served in process too, on its revision (modern-call.ts), and begun first.
      if (mcp.begins(call.tool)) await begin(call, user);
      const server = mcp.server(user, 'modern', call.tool, call.begun);
      // Closing the server aborts the call's handler and ends its exchange.
      hangUp.signal.addEventListener('abort', () => void server.close().catch(() => undefined), {
        once: true,
      });
      const message = request.body as JSONRPCRequest;
      const answer = await serveModernInProcess(
        server,
        message,
        classification,
        callerAuth(user),
        keepAliveMs,
      ).catch((error: unknown) => {
        // The client left before the first message: there is no one to answer (the SDK's handler says 499).
        if (hangUp.signal.aborted) return undefined;
        throw error;
      });
      if (answer === undefined) return { status: 499, headers: {} };
      if (answer.kind === 'json') return jsonAnswer(200, answer.answer);
      return { status: 200, headers: SSE_ANSWER_HEADERS, body: answer.body };
    }
    const web = webRequest(request, hangUp.signal);
    if (call !== undefined && legacy === 'classified' && mcp.answersAtOnce(call.tool)) {
      const server = mcp.server(user, 'legacy', call.tool);
      return fromResponse(await answerWithJson(server, web, request.body, callerAuth(user)));
    }
    if (call !== undefined) calls.set(web, call);
    const response = await handler.fetch(web, {
      parsedBody: request.body,
      authInfo: callerAuth(user),
    });
    return fromResponse(response);
  };
  return { answer, close: () => handler.close(), mcp };
}

/** A JSON answer: one text, with the content type Fastify would give it (and any other headers). */
export function jsonAnswer(
  status: number,
  message: unknown,
  headers: Readonly<Record<string, string>> = {},
): McpAnswer {
  return { status, headers: { ...headers, 'content-type': JSON_TYPE }, body: JSON.stringify(message) };
}

/** JSON-RPC's invalid-params error (-32602), answering the request `body` carries when it can be named. */
function invalidParams(status: number, message: string, body: unknown): McpAnswer {
  return jsonAnswer(status, { jsonrpc: '2.0', error: { code: -32602, message }, id: answerableId(body) });
}

/**
 * The SDK's handler is web-standard. The server has already read and parsed the body (after auth, within its
 * limit), so the request handed over carries the headers, method and hang-up signal, and the parsed body rides
 * beside it; the URL is not used.
 */
function webRequest(request: McpPost, signal: AbortSignal): Request {
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
  readonly requestId: RequestId | undefined;
  /** What the tool began for this call, if anything. */
  begun?: BegunCall | undefined;
  /** Ends the begun call's registration for cancellation. */
  unregister?: () => void;
}

/** The tool call a body makes when it is a single tools/call request. */
function toolCall(body: unknown): ToolCallRequest | undefined {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return undefined;
  const message = body as { method?: unknown; params?: { name?: unknown; arguments?: unknown } };
  if (message.method !== 'tools/call') return undefined;
  const tool = message.params?.name;
  if (typeof tool !== 'string') return undefined;
  const { requestId } = describeBody(body);
  return { tool, args: message.params?.arguments, requestId };
}

/**
 * Whether the SDK will serve this request by its 2025 stateless fallback (its own classification, on the same
 * headers and body) and that fallback's transport accept it: Accept naming JSON and SSE, a protocol version it
 * knows (the body is JSON already). Such a request's call is dispatched, so it may be begun. 'plain' when the call
 * was recognised by hand (legacy-call.ts), 'classified' when the SDK's classification said so (asked only when
 * `askSdk`); undefined when the fallback will not dispatch it, or it was not recognised and the SDK not asked.
 */
function legacyDispatch(
  inbound: InboundHttpRequest,
  headers: IncomingHttpHeaders,
  askSdk: boolean,
): 'plain' | 'classified' | undefined {
  const revision = inbound.protocolVersionHeader;
  // The common 2025 call, and a 2026-07-28 one, are recognised without the SDK's zod parses (see legacy-call.ts);
  // the rest the SDK classifies.
  const plain = isPlainLegacyToolCall(inbound);
  const legacy =
    plain || (askSdk && !claimsModernRevision(inbound) && classifyInboundRequest(inbound).kind === 'legacy');
  const accept = header(headers, 'accept') ?? '';
  const dispatched =
    legacy &&
    accept.includes('application/json') &&
    accept.includes('text/event-stream') &&
    (revision === undefined || SUPPORTED_PROTOCOL_VERSIONS.includes(revision.trim()));
  if (!dispatched) return undefined;
  return plain ? 'plain' : 'classified';
}

/** What the SDK's classification reads of a request: its method, body and MCP headers. */
function inboundRequest(request: McpPost): InboundHttpRequest {
  return {
    httpMethod: request.method,
    body: request.body,
    protocolVersionHeader: header(request.headers, 'mcp-protocol-version'),
    mcpMethodHeader: header(request.headers, 'mcp-method'),
    mcpNameHeader: header(request.headers, 'mcp-name'),
  };
}

/** A request header as one string, as the web Headers the SDK reads would give it (repeats joined). */
function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
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
 * The SDK's answer as an McpAnswer. A JSON answer becomes one string (one socket write, with its length); a
 * streamed answer (SSE: progress, log messages, then the result) is passed on to be piped as it is produced.
 */
async function fromResponse(response: Response): Promise<McpAnswer> {
  const headers: Record<string, string> = {};
  response.headers.forEach((value, name) => void (headers[name] = value));
  if (!response.body) return { status: response.status, headers };
  const type = headers['content-type'];
  if (type?.startsWith('text/event-stream')) {
    // Tells nginx not to buffer the stream: progress and keepalives must reach the client as they are written.
    return {
      status: response.status,
      headers: { ...headers, 'x-accel-buffering': 'no' },
      body: response.body,
    };
  }
  // Fastify would add the charset to a JSON text; the answer carries it whichever server sends it.
  if (type !== undefined && type.includes('json') && !/;\s*charset=/i.test(type))
    headers['content-type'] = `${type}; charset=utf-8`;
  return { status: response.status, headers, body: await response.text() };
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

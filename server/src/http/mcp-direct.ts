import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline, Readable } from 'node:stream';
import type { Logger } from 'pino';
import type { KeyRing } from '../auth/keys.js';
import { ACCESS_TOKEN_PREFIX } from '../auth/oauth/index.js';
import { bearerToken, isAllowedHost, type OriginPolicy } from '../auth/request-guard.js';
import { jsonAnswer, SseAnswerBody, type McpAnswer, type McpPostHandler } from '../mcp/index.js';
import { errorReply } from './errors.js';
import { SECURITY_HEADERS } from './security.js';

export interface McpDirectOptions {
  readonly policy: OriginPolicy;
  readonly keyRing: KeyRing;
  /** The largest body taken (the app's body limit); a larger one is left to Fastify, which answers 413. */
  readonly bodyLimit: number;
  /** Fastify's own JSON body parser, so a body is accepted or refused exactly as the route would. */
  readonly parseJson: (text: string) => unknown;
  /** The request id, as Fastify makes it (x-request-id, else the next of the ids it shares with this path). */
  readonly requestId: (request: IncomingMessage) => string;
  readonly logger: Logger;
  /** The MCP post handler, once the routes are registered. */
  readonly handler: () => McpPostHandler | undefined;
  /** True once the app is closing: Fastify then answers 503. */
  readonly closing: () => boolean;
}

/** The content types taken: what Fastify's JSON parser takes without a second look. */
const JSON_CONTENT_TYPES = new Set(['application/json', 'application/json; charset=utf-8']);

/**
 * The common MCP call served straight from Node's HTTP server, before Fastify: a POST to exactly `/mcp` from an
 * agent (no Origin: not a browser), addressed to a Host served here, with an API key from the key ring and a JSON
 * body of a declared length within the limit. Such a request is answered by the same post handler as Fastify's
 * route (mcp/post-handler.ts), with the same headers, errors and log line; it skips Fastify's router, hooks and
 * reply, which were a sixth of a speech call's CPU from its arrival to its upstream request (`npm run bench`,
 * scenario a; Fastify with Earshot's hooks costs 0.25 ms more than plain Node per POST with calls 1.5 s apart).
 *
 * Everything is decided before a byte of the body is read, and every request that is not that call, or that
 * would be refused (another Host, a browser's Origin, a missing or wrong key, an OAuth token, a chunked or
 * oversized body, another content type, a server closing), is left to Fastify untouched, which answers it as it
 * always has. The checks are the same functions the Fastify hooks use, and mcp-direct.test.ts compares both
 * paths' answers. Returns whether it took the request.
 */
export function mcpDirect(options: McpDirectOptions) {
  return (request: IncomingMessage, response: ServerResponse): boolean => {
    if (request.method !== 'POST' || request.url !== '/mcp' || options.closing()) return false;
    const handler = options.handler();
    const headers = request.headers;
    if (handler === undefined || headers.origin !== undefined || headers['transfer-encoding'] !== undefined)
      return false;
    if (!isAllowedHost(headers.host, options.policy)) return false;
    const type = headers['content-type']?.toLowerCase();
    if (type === undefined || !JSON_CONTENT_TYPES.has(type)) return false;
    const declared = headers['content-length'];
    if (declared === undefined || !/^[1-9][0-9]{0,9}$/.test(declared)) return false;
    const length = Number(declared);
    if (length > options.bodyLimit) return false;
    const presented = bearerToken(headers.authorization);
    // OAuth access tokens are checked against the store (asynchronously): Fastify's route does that.
    if (presented === undefined || presented.startsWith(ACCESS_TOKEN_PREFIX)) return false;
    const user = options.keyRing.authenticate(presented);
    if (user === null) return false;

    const startedAt = performance.now();
    const requestId = options.requestId(request);
    // The line Fastify's onResponse hook writes (app.ts), for an answer begun; a client that left before its
    // body was in got none, and is not logged (as under Fastify).
    response.once('close', () => {
      if (!response.headersSent) return;
      options.logger.info(
        {
          reqId: requestId,
          method: 'POST',
          url: '/mcp',
          status: response.statusCode,
          ms: Math.round(performance.now() - startedAt),
        },
        'request',
      );
    });
    readBody(request, (text) => {
      let body: unknown;
      try {
        body = options.parseJson(text);
      } catch (error) {
        // As Fastify answers a body its parser refuses; the connection closes after it.
        const refusal = errorReply(error as Error, options.logger);
        send(response, jsonAnswer(refusal.status, refusal.body, { ...refusal.headers, connection: 'close' }));
        return;
      }
      handler
        .answer({ user, body, method: 'POST', url: '/mcp', headers, response })
        .catch((error: unknown) => {
          const failure = errorReply(error as Error, options.logger.child({ reqId: requestId }));
          return jsonAnswer(failure.status, failure.body, failure.headers);
        })
        .then(
          (answer) => send(response, answer),
          (error: unknown) => response.destroy(error as Error),
        );
    });
    return true;
  };
}

/**
 * Reads the body (its length declared, and checked against the limit already) and hands it over as text. A
 * client that hangs up or sends too little gets nothing: the request ends without an answer, as under Fastify.
 */
function readBody(request: IncomingMessage, then: (text: string) => void): void {
  const chunks: Buffer[] = [];
  request.on('data', (chunk: Buffer) => chunks.push(chunk));
  request.once('end', () =>
    then((chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)).toString('utf8')),
  );
  request.once('error', () => request.removeAllListeners('data'));
}

/** Writes an answer with the headers Fastify's hooks give every response (CORS's Vary, the security set). */
function send(response: ServerResponse, answer: McpAnswer): void {
  if (response.destroyed) return;
  const headers: Record<string, string | number> = { vary: 'Origin', ...answer.headers, ...SECURITY_HEADERS };
  const body = answer.body;
  if (body === undefined || typeof body === 'string') {
    const text = body ?? '';
    headers['content-length'] = Buffer.byteLength(text);
    response.writeHead(answer.status, headers);
    response.end(text);
    return;
  }
  response.writeHead(answer.status, headers);
  // Written to the response as produced; a client that leaves ends the call (post-handler.ts), and with it the body.
  if (body instanceof SseAnswerBody) return body.attach(response);
  const stream =
    body instanceof Readable ? body : Readable.fromWeb(body as import('node:stream/web').ReadableStream);
  // A client that leaves ends the stream (and the call with it, see post-handler.ts); nothing to report.
  pipeline(stream, response, () => undefined);
}

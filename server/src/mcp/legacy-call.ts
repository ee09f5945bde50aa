import {
  PROTOCOL_VERSION_META_KEY,
  SUPPORTED_PROTOCOL_VERSIONS,
  type InboundHttpRequest,
} from '@modelcontextprotocol/server';
import { isIdOrToken, isJsonObject } from './json-shape.js';

/** The SDK's isModernProtocolVersion is `version >= '2026-07-28'`; the revisions before it are the 2025 era's. */
const FIRST_MODERN_REVISION = '2026-07-28';
const LEGACY_REVISIONS = new Set(SUPPORTED_PROTOCOL_VERSIONS.filter((v) => v < FIRST_MODERN_REVISION));
/** JSONRPCRequestSchema is strict: a request has these keys and no others. */
const REQUEST_KEYS = new Set(['jsonrpc', 'id', 'method', 'params']);
/** The prefix of the SDK's reserved `_meta` keys: the envelope claim (protocolVersion) and its companions. */
const RESERVED_META_PREFIX = 'io.modelcontextprotocol/';

/**
 * Whether `request` is plainly a 2025-era tools/call, one `classifyInboundRequest` classifies as legacy
 * ('no-claim'). The route asks that on the way to a speech's first audio, and the SDK's answer costs ~20 µs warm,
 * ~100 µs with cold caches (zod parses the body up to three times); these few reads recognise the common call.
 *
 * The SDK stays the authority. Invariant: this says true ⇒ the SDK says legacy. It says false for anything it does
 * not positively recognise, and the caller then asks the SDK, so false is always safe; legacy-call.test.ts holds
 * the invariant against the installed SDK. What it mirrors (SDK 2.4): the body passes JSONRPCRequestSchema (strict
 * keys; jsonrpc "2.0"; id a string or a safe integer; params an object; `_meta` an object with a string or integer
 * progressToken), it is not initialize, its `_meta` has no envelope claim, and the protocol-version header names no
 * modern revision. It refuses more than it must: any reserved `_meta` key, a header it would have to trim or that
 * names no revision it knows, and the modern era's Mcp-Method / Mcp-Name headers.
 */
export function isPlainLegacyToolCall(request: InboundHttpRequest): boolean {
  const { body, protocolVersionHeader: revision } = request;
  if (request.httpMethod !== 'POST') return false;
  if (revision !== undefined && !LEGACY_REVISIONS.has(revision)) return false;
  if (request.mcpMethodHeader !== undefined || request.mcpNameHeader !== undefined) return false;
  if (!isPlainToolCallRequest(body)) return false;
  const meta = body.params._meta;
  if (meta === undefined) return true;
  if (PROTOCOL_VERSION_META_KEY in meta) return false;
  for (const key in meta) if (key.startsWith(RESERVED_META_PREFIX)) return false;
  return true;
}

/** A tools/call request whose `_meta`, if any, is an object. */
export interface ToolCallRequestBody {
  readonly jsonrpc: '2.0';
  readonly id: string | number;
  readonly method: 'tools/call';
  readonly params: Record<string, unknown> & { readonly _meta?: Record<string, unknown> };
}

/**
 * Whether `body` is one tools/call request in the shape the SDK's JSONRPCRequestSchema takes (strict keys; jsonrpc
 * "2.0"; id a string or a safe integer; params an object; `_meta`, if any, an object with a string or integer
 * progressToken), whatever its revision. Both recognisers (here and modern-call.ts) start from it.
 */
export function isPlainToolCallRequest(body: unknown): body is ToolCallRequestBody {
  if (!isJsonObject(body) || body.jsonrpc !== '2.0' || body.method !== 'tools/call') return false;
  for (const key in body) if (!REQUEST_KEYS.has(key)) return false;
  if (!isIdOrToken(body.id)) return false;
  if (!isJsonObject(body.params)) return false;
  const meta = body.params._meta;
  if (meta === undefined) return true;
  if (!isJsonObject(meta)) return false;
  const token = meta.progressToken;
  return token === undefined || isIdOrToken(token);
}

/**
 * Whether `request` plainly claims the 2026-07-28 era: its `_meta` carries the envelope claim, or its
 * MCP-Protocol-Version header names a modern revision. The SDK then serves it as modern or refuses it, never by its
 * 2025 fallback, so the route need not ask `classifyInboundRequest` (which the SDK's handler asks again anyway).
 *
 * Invariant, held by legacy-call.test.ts against the installed SDK: this says true ⇒ the SDK does not say legacy.
 * What it mirrors (SDK 2.4): a single JSON object that is not a response (no `result` or `error`) is classified as a
 * request or a notification; either, with an envelope claim or a modern header, is modern or refused, but for
 * `initialize`. It refuses more than it must: anything but a tools/call, a header it would have to trim.
 */
export function claimsModernRevision(request: InboundHttpRequest): boolean {
  const { body, protocolVersionHeader: revision } = request;
  if (request.httpMethod !== 'POST' || !isJsonObject(body)) return false;
  // initialize is the legacy handshake unless its envelope is complete; the route asks only about tools/call.
  if (body.method !== 'tools/call' || 'result' in body || 'error' in body) return false;
  if (revision !== undefined && revision === revision.trim() && revision >= FIRST_MODERN_REVISION)
    return true;
  const meta = isJsonObject(body.params) ? body.params._meta : undefined;
  return isJsonObject(meta) && PROTOCOL_VERSION_META_KEY in meta;
}

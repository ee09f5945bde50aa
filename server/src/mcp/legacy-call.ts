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
  if (!isJsonObject(body) || body.jsonrpc !== '2.0' || body.method !== 'tools/call') return false;
  for (const key in body) if (!REQUEST_KEYS.has(key)) return false;
  if (!isIdOrToken(body.id)) return false;
  if (!isJsonObject(body.params)) return false;
  const meta = body.params._meta;
  if (meta === undefined) return true;
  if (!isJsonObject(meta) || PROTOCOL_VERSION_META_KEY in meta) return false;
  for (const key in meta) if (key.startsWith(RESERVED_META_PREFIX)) return false;
  const token = meta.progressToken;
  return token === undefined || isIdOrToken(token);
}

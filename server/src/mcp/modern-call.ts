import {
  classifyInboundRequest,
  PROTOCOL_VERSION_META_KEY,
  type InboundHttpRequest,
  type MessageClassification,
} from '@modelcontextprotocol/server';
import { isPlainToolCallRequest } from './legacy-call.js';

/**
 * The 2026-07-28-era revisions the SDK's handler serves (its SUPPORTED_MODERN_PROTOCOL_VERSIONS, not exported).
 * mcp-modern-answers.test.ts has the handler serve 2026-07-28 and refuse a later revision.
 */
export const MODERN_REVISIONS: readonly string[] = ['2026-07-28'];
/**
 * A tool name that is its own Mcp-Name header: no whitespace to strip, and not the `=?base64?…?=` sentinel the
 * header uses for names it cannot carry as they are. Every Earshot tool's name is one.
 */
const PLAIN_NAME = /^[A-Za-z0-9_.-]{1,128}$/;
/** Envelopes whose verdict is kept, and the longest one kept (a longer one is classified every time). */
const MAX_VERDICTS = 64;
const MAX_ENVELOPE_CHARS = 4096;

/**
 * The classification of a plain 2026-07-28 tools/call: one the SDK's handler would dispatch as it stands, with
 * nothing to refuse. The route serves such a call in process (sse-answer.ts) instead of through the handler's
 * web Request and Response, which cost a quick call ~0.2 ms of CPU over a 2025 call served in process.
 *
 * The SDK stays the authority on the envelope: its own `classifyInboundRequest` (exported for such routing) checks
 * the `_meta` envelope and the header/body cross-checks. What this adds is the handler's next rung, the standard
 * headers, taken only in the plain case: MCP-Protocol-Version naming a revision it serves, Mcp-Method saying
 * tools/call, Mcp-Name equal to `params.name` with nothing to decode. Anything else returns undefined and goes to
 * the handler, which answers or refuses it itself. The handler's later rungs (required client capabilities,
 * `x-mcp-header` parameters, scope challenges) have nothing to refuse in Earshot's tools: modern-call.test.ts
 * holds that, and the in-process answer against the handler's, on the installed SDK.
 *
 * A client sends the same envelope (its revision, name and capabilities) with every call, and the SDK's check of
 * it (zod, ~50 µs) was the largest part left of such a call's cost, so its verdict is kept by the envelope's
 * JSON: the request's shape is checked by hand (isPlainToolCallRequest, held against the SDK by
 * legacy-call.test.ts), and with the shape and headers fixed the envelope alone decides the classification.
 */
export function plainModernToolCall(request: InboundHttpRequest): MessageClassification | undefined {
  const { body, protocolVersionHeader: revision } = request;
  if (request.httpMethod !== 'POST' || revision === undefined || !MODERN_REVISIONS.includes(revision))
    return undefined;
  if (request.mcpMethodHeader !== 'tools/call' || !isPlainToolCallRequest(body)) return undefined;
  const tool = body.params.name;
  if (typeof tool !== 'string' || !PLAIN_NAME.test(tool) || request.mcpNameHeader !== tool) return undefined;
  const meta = body.params._meta;
  if (meta === undefined || !(PROTOCOL_VERSION_META_KEY in meta)) return undefined;
  // The progress token changes from call to call; its shape was checked with the request's.
  const { progressToken: _token, ...envelope } = meta;
  const key = `${revision} ${JSON.stringify(envelope)}`;
  const kept = verdicts.get(key);
  if (kept !== undefined) return kept.classification;
  const classification = classify(request, revision);
  if (key.length <= MAX_ENVELOPE_CHARS) {
    if (verdicts.size >= MAX_VERDICTS) verdicts.delete(verdicts.keys().next().value!);
    verdicts.set(key, { classification });
  }
  return classification;
}

/** Verdicts by revision and envelope, oldest first. */
const verdicts = new Map<string, { readonly classification: MessageClassification | undefined }>();

function classify(request: InboundHttpRequest, revision: string): MessageClassification | undefined {
  const route = classifyInboundRequest(request);
  if (route.kind !== 'modern' || route.messageKind !== 'request') return undefined;
  // Shared by every call with the same envelope: nobody may change it.
  return route.classification.revision === revision ? Object.freeze(route.classification) : undefined;
}

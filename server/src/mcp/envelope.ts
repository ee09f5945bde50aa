/**
 * Caps on the JSON-RPC fields the MCP SDK quotes back: the request id (in every answer and progress
 * notification), a tool or prompt name ("Tool X not found"), a resource URI ("Resource X not found"), a progress
 * token, a cursor. Tool arguments are capped by each tool's schema; these fields have no schema of ours, so an
 * oversized one is refused here, before the SDK sees it, instead of being echoed back in full.
 */
import { specTypeSchemas } from '@modelcontextprotocol/server';
import { isIdOrToken, isJsonObject } from './json-shape.js';

const NAME_MAX_CHARS = 200;
const URI_MAX_CHARS = 512;

const CAPPED_FIELDS: readonly { path: readonly string[]; max: number }[] = [
  { path: ['id'], max: NAME_MAX_CHARS },
  { path: ['method'], max: NAME_MAX_CHARS },
  { path: ['params', 'name'], max: NAME_MAX_CHARS },
  { path: ['params', 'uri'], max: URI_MAX_CHARS },
  { path: ['params', 'cursor'], max: URI_MAX_CHARS },
  { path: ['params', 'ref', 'name'], max: NAME_MAX_CHARS },
  { path: ['params', 'ref', 'uri'], max: URI_MAX_CHARS },
  { path: ['params', '_meta', 'progressToken'], max: NAME_MAX_CHARS },
];

function fieldAt(message: unknown, path: readonly string[]): unknown {
  let value = message;
  for (const key of path) {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

/** The first oversized field of a JSON-RPC body (one message or a batch) as "params.name: at most 200 characters". */
export function oversizedEnvelopeField(body: unknown): string | undefined {
  const messages = Array.isArray(body) ? body : [body];
  for (const message of messages) {
    for (const { path, max } of CAPPED_FIELDS) {
      const value = fieldAt(message, path);
      if (typeof value === 'string' && value.length > max)
        return `${path.join('.')}: at most ${max} characters`;
    }
  }
  return undefined;
}

/** The id to answer a refused body with: its own when it is a short string or a number, else null. */
export function answerableId(body: unknown): string | number | null {
  const id = Array.isArray(body) ? undefined : fieldAt(body, ['id']);
  if (typeof id === 'number') return id;
  return typeof id === 'string' && id.length <= NAME_MAX_CHARS ? id : null;
}

/**
 * Each client request's schema by method. The SDK (2.4, like 1.x) answers some requests whose params fail its
 * schema with -32603 "Internal error", others with the raw issue list; JSON-RPC says -32602 "Invalid params", so
 * requests are checked here first, with the SDK's own schemas, and refused with a short message.
 */
const REQUEST_SCHEMAS = new Map<string, (typeof specTypeSchemas)[keyof typeof specTypeSchemas]>([
  ['initialize', specTypeSchemas.InitializeRequest],
  ['ping', specTypeSchemas.PingRequest],
  ['server/discover', specTypeSchemas.DiscoverRequest],
  ['tools/list', specTypeSchemas.ListToolsRequest],
  ['tools/call', specTypeSchemas.CallToolRequest],
  ['resources/list', specTypeSchemas.ListResourcesRequest],
  ['resources/templates/list', specTypeSchemas.ListResourceTemplatesRequest],
  ['resources/read', specTypeSchemas.ReadResourceRequest],
  ['resources/subscribe', specTypeSchemas.SubscribeRequest],
  ['resources/unsubscribe', specTypeSchemas.UnsubscribeRequest],
  ['prompts/list', specTypeSchemas.ListPromptsRequest],
  ['prompts/get', specTypeSchemas.GetPromptRequest],
  ['completion/complete', specTypeSchemas.CompleteRequest],
  ['logging/setLevel', specTypeSchemas.SetLevelRequest],
]);

/** The first request in a body (one message or a batch) whose params its method's schema refuses, as "path: why". */
export function invalidRequestParams(body: unknown): string | undefined {
  const messages: unknown[] = Array.isArray(body) ? body : [body];
  for (const message of messages) {
    const method = fieldAt(message, ['method']);
    if (typeof method !== 'string' || fieldAt(message, ['id']) === undefined) continue;
    const uri = fieldAt(message, ['params', 'uri']);
    if (method.startsWith('resources/') && typeof uri === 'string' && !URL.canParse(uri))
      return `${method}: params.uri: not a URI`;
    if (method === 'tools/call' && isPlainToolCall(message)) continue;
    const issues = REQUEST_SCHEMAS.get(method)?.['~standard'].validate(message).issues;
    if (!issues?.length) continue;
    const issue = issues[0];
    const where = issue?.path?.length
      ? `${issue.path.map((key) => String(typeof key === 'object' ? key.key : key)).join('.')}: `
      : '';
    return `${method}: ${where}${issue?.message ?? 'malformed'}`;
  }
  return undefined;
}

/** The reserved `_meta` key whose value the SDK's request schema checks (besides progressToken). */
const RELATED_TASK_META_KEY = 'io.modelcontextprotocol/related-task';

/**
 * Whether `message` is plainly a tools/call the SDK's CallToolRequest schema accepts, seen in a few property reads:
 * the schema's zod parse is ~140 µs with cold caches (a speech every few minutes) on the way to the first audio,
 * for the one request every speech is. Invariant: true ⇒ the schema finds no issue; anything not recognised here
 * goes to the schema, which stays the authority (envelope.test.ts holds the invariant against the installed SDK).
 * What it mirrors (SDK 2.4): params an object with a string `name`, `arguments` absent or a plain object (a record
 * of string keys), no `task`, and `_meta` absent or an object whose progressToken is a string or a safe integer and
 * which has no related-task; other keys pass (the schema's objects are not strict).
 */
function isPlainToolCall(message: unknown): boolean {
  const params = fieldAt(message, ['params']);
  if (!isJsonObject(params) || typeof params.name !== 'string' || params.task !== undefined) return false;
  if (params.arguments !== undefined && !isJsonObject(params.arguments)) return false;
  const meta = params._meta;
  if (meta === undefined) return true;
  if (!isJsonObject(meta) || RELATED_TASK_META_KEY in meta) return false;
  const token = meta.progressToken;
  return token === undefined || isIdOrToken(token);
}

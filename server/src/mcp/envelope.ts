/**
 * Caps on the JSON-RPC fields the MCP SDK quotes back: the request id (in every answer and progress
 * notification), a tool or prompt name ("Tool X not found"), a resource URI ("Resource X not found"), a progress
 * token, a cursor. Tool arguments are capped by each tool's schema; these fields have no schema of ours, so an
 * oversized one is refused here, before the SDK sees it, instead of being echoed back in full.
 */
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

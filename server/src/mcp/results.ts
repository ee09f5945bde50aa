import type { CallToolResult } from '@modelcontextprotocol/server';
import { toEarshotError } from '../errors.js';

/** A successful result: one readable line for the model plus the same facts as structured content. */
export function ok(text: string, structured: Record<string, unknown>): CallToolResult {
  return { content: [{ type: 'text', text }], structuredContent: structured };
}

/**
 * `structuredContent.message`: the first line of the result's text, first in the object. Clients that hand only
 * `structuredContent` on (Mastra's `execute()`, workflow steps, UIs that render JSON) would otherwise lose what
 * the text says and the facts do not, such as "Nobody heard it: … Ask the user to open …".
 */
export const MESSAGE_FIELD = 'message';
/**
 * Guidance lines are a few hundred characters; a first line that is mostly data (a transcript) is cut here
 * rather than sent twice in full — the facts are in structuredContent's own fields.
 */
export const MESSAGE_MAX_CHARS = 600;

export function withLeadMessage(result: CallToolResult): CallToolResult {
  if (result.isError || !result.structuredContent) return result;
  const text = result.content.find((part) => part.type === 'text')?.text ?? '';
  const line = text.split('\n', 1)[0] ?? '';
  const lead = line.length > MESSAGE_MAX_CHARS ? `${line.slice(0, MESSAGE_MAX_CHARS - 1)}…` : line;
  return { ...result, structuredContent: { [MESSAGE_FIELD]: lead, ...result.structuredContent } };
}

/** A failed call the agent can act on: `isError` with a message that says what to do. */
export function failed(error: unknown): CallToolResult {
  const e = toEarshotError(error);
  return { content: [{ type: 'text', text: `${e.message} [${e.code}]` }], isError: true };
}

/** Runs a tool body and turns anything it throws into a clear `isError` result. */
export async function guarded(body: () => Promise<CallToolResult>): Promise<CallToolResult> {
  try {
    return await body();
  } catch (error) {
    return failed(error);
  }
}

import type { CallToolResult } from '@modelcontextprotocol/server';
import { toEarshotError } from '../errors.js';

/** A successful result: one readable line for the model plus the same facts as structured content. */
export function ok(text: string, structured: Record<string, unknown>): CallToolResult {
  return { content: [{ type: 'text', text }], structuredContent: structured };
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

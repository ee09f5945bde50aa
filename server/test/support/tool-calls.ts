/** A tool call's name and arguments, as the route-level tests send them. */
export type ToolCall = readonly [name: string, args: Record<string, unknown>];

/**
 * Calls of the quick tools (answered at once, nothing sent on the way), among them ones their schemas refuse: the
 * calls whose in-process answers the route-level tests hold against the SDK's, on either revision.
 */
export const QUICK_TOOL_CALLS: readonly ToolCall[] = [
  ['get_settings', {}],
  ['get_usage', { days: 3 }],
  ['list_history', {}],
  ['list_history', { limit: 'many' }],
  ['list_models', {}],
  ['list_voices', {}],
  ['search_voices', { query: 'a' }],
  ['get_voice', { voice: 'no-such-voice' }],
  ['get_settings', { unexpected: true }],
];

/** Calls of tools that may send messages on the way, each answered at once here (nothing to stop, find or speak). */
export const STREAMING_TOOL_CALLS: readonly ToolCall[] = [
  ['stop_speaking', {}],
  ['replay', { id: 'h_none' }],
  ['delete_history_item', { id: 'h_none' }],
  ['speak', { text: 7 }],
  ['speak', { text: 'x'.repeat(6000) }],
];

/** An HTTP answer to an MCP call as the route-level tests compare them. */
export interface HttpAnswer {
  readonly status: number;
  readonly type: string | null;
  /** The headers that shape an answer: its type, caching and proxy buffering. */
  readonly headers: Record<string, string | null>;
  readonly text: string;
}

export async function readAnswer(response: Response): Promise<HttpAnswer> {
  const shaping = ['content-type', 'cache-control', 'x-accel-buffering'];
  return {
    status: response.status,
    type: response.headers.get('content-type'),
    headers: Object.fromEntries(shaping.map((name) => [name, response.headers.get(name)])),
    text: await response.text(),
  };
}

/** A streamed answer's events, keepalive comments aside, each data line parsed. */
export function sseEvents(text: string): { name: string | undefined; data: unknown }[] {
  return text
    .split('\n\n')
    .filter((event) => event.length > 0 && !event.startsWith(':'))
    .map((event) => {
      const [name, data] = event.split('\n');
      return { name, data: JSON.parse(data!.replace(/^data: /, '')) as unknown };
    });
}

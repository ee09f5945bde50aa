export type RequestId = string | number;

/**
 * Tool calls in progress, by user and JSON-RPC id. Stateless HTTP gives each POST its own server, so a
 * `notifications/cancelled` (or the client hanging up) arrives where the SDK cannot see the call it
 * names; this registry lets that POST reach the call. Ids are scoped to the user: one user's
 * cancellation can never stop another user's speech.
 */
export class InFlightCalls {
  private readonly calls = new Map<string, Set<() => void>>();

  /** Registers a cancel action for a call; returns the function that unregisters it. */
  register(user: string, requestId: RequestId, cancel: () => void): () => void {
    const key = this.key(user, requestId);
    const actions = this.calls.get(key) ?? new Set();
    actions.add(cancel);
    this.calls.set(key, actions);
    return () => {
      actions.delete(cancel);
      if (actions.size === 0 && this.calls.get(key) === actions) this.calls.delete(key);
    };
  }

  cancel(user: string, requestId: RequestId): boolean {
    const actions = this.calls.get(this.key(user, requestId));
    if (!actions) return false;
    for (const cancel of [...actions]) cancel();
    return true;
  }

  private key(user: string, requestId: RequestId): string {
    return `${user}\u0000${typeof requestId}:${String(requestId)}`;
  }
}

/** The id of a JSON-RPC request body, and the request id a cancellation notification names. */
export function describeBody(body: unknown): { requestId?: RequestId; cancels?: RequestId } {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return {};
  const message = body as { id?: unknown; method?: unknown; params?: { requestId?: unknown } };
  const asId = (value: unknown) =>
    typeof value === 'string' || typeof value === 'number' ? value : undefined;
  if (message.method === 'notifications/cancelled') return { cancels: asId(message.params?.requestId) };
  return { requestId: asId(message.id) };
}

import type { KeyScanner } from './keys.js';
import type { Tally } from './tally.js';

/**
 * Deliberate refusals: 5xx answers that carry one of Earshot's documented error codes for a failure
 * outside the request (ElevenLabs down or refusing, the server draining). They are what a client should
 * get, so they are counted apart from 5xx; everything else at 500–599, and `internal` anywhere, is a 5xx.
 */
export const REFUSAL_CODES = new Set([
  'upstream_unauthorized',
  'upstream_busy',
  'upstream_error',
  'upstream_interrupted',
  'shutting_down',
]);

/** History ids seen in responses, so later inputs can name real items (`{{hid:N}}`). */
export class HistoryPool {
  private readonly ids: string[] = [];
  private readonly known = new Set<string>();

  add(id: string): void {
    if (this.known.has(id)) return;
    this.known.add(id);
    this.ids.push(id);
    if (this.ids.length > 500) this.known.delete(this.ids.shift()!);
  }

  /** The nth id (wrapping); an id that cannot exist while none has been seen. */
  get(n: number): string {
    return this.ids.length === 0 ? 'sp_notseenyet00' : this.ids[n % this.ids.length]!;
  }

  harvest(text: string): void {
    for (const match of text.matchAll(/"id"\s*:\s*"(sp_[A-Za-z0-9_-]{4,60})"/g)) this.add(match[1]!);
  }
}

export interface Inspection {
  readonly tally: Tally;
  readonly scanner: KeyScanner;
  readonly pool: HistoryPool;
  readonly index?: number;
  readonly input?: string;
  /** Sees every exchange (replay prints them). */
  readonly trace?: (
    request: { readonly method: string; readonly path: string },
    response: HttpResult,
  ) => void;
}

/** A V8 stack frame, a Node internal module, or a source file with a line number (a path alone may be echoed). */
const STACK = /\n\s+at [^\n]*:\d+:\d+\)?|node:internal\/|\/server\/(src|dist)\/[\w/.-]+\.[jt]s:\d+/;

export function hasStack(text: string): boolean {
  return STACK.test(text);
}

export function excerpt(scanner: KeyScanner, text: string, length = 400): string {
  return scanner.redact(text.length > length ? `${text.slice(0, length)}…` : text);
}

/** Looks for keys and stack traces in anything the server sent. */
export function inspectOutput(inspection: Inspection, raw: Buffer | string, where: string): void {
  const { tally, scanner } = inspection;
  const text = typeof raw === 'string' ? raw : raw.toString('latin1');
  for (const label of scanner.scan(text)) {
    tally.find('key', `${label} in ${where}`, { ...context(inspection), response: excerpt(scanner, text) });
  }
  if (STACK.test(text)) {
    tally.find('stack', `stack trace or source path in ${where}`, {
      ...context(inspection),
      response: excerpt(scanner, text, 800),
    });
  }
}

function context(inspection: Inspection): { index?: number; input?: string } {
  return {
    ...(inspection.index === undefined ? {} : { index: inspection.index }),
    ...(inspection.input === undefined ? {} : { input: inspection.input }),
  };
}

export interface HttpResult {
  readonly outcome: 'response' | 'timeout' | 'reset' | 'aborted';
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Buffer;
  readonly raw: Buffer;
}

/** Classifies one HTTP exchange: hang, 5xx or refusal, JSON-RPC internal errors, secrets, policy. */
export function inspectHttp(
  inspection: Inspection,
  request: {
    readonly method: string;
    readonly path: string;
    readonly channel?: string;
    readonly foreignOrigin?: boolean;
  },
  response: HttpResult,
): void {
  const { tally, scanner } = inspection;
  inspection.trace?.(request, response);
  tally.status(response.outcome === 'response' ? String(response.status) : response.outcome);
  if (response.outcome === 'timeout') {
    tally.find(
      'hang',
      `no complete answer to ${request.method} ${request.path.slice(0, 80)} within the deadline`,
      {
        ...context(inspection),
        response: excerpt(scanner, response.raw.toString('latin1')),
      },
    );
  }
  inspectOutput(inspection, response.raw, 'a response');
  const contentType = response.headers['content-type'] ?? '';
  const text = /json|text|event-stream/.test(contentType) ? response.body.toString('utf8') : '';
  if (text) inspection.pool.harvest(text);
  const bodyCode = /"code"\s*:\s*"([a-z_]+)"/.exec(text)?.[1];

  if (response.status >= 500 && response.status <= 599) {
    const readiness = /"status"\s*:\s*"(not_ready|draining)"/.exec(text)?.[1];
    if (bodyCode && REFUSAL_CODES.has(bodyCode)) tally.refuse(bodyCode);
    else if (readiness && request.path.startsWith('/readyz')) tally.refuse(`readyz ${readiness}`);
    else if (response.status === 503 && /console is not built/.test(text)) tally.refuse('console_not_built');
    else {
      tally.find('5xx', `HTTP ${response.status} to ${request.method} ${request.path.slice(0, 80)}`, {
        ...context(inspection),
        response: excerpt(scanner, text || response.raw.toString('latin1')),
      });
    }
  } else if (bodyCode === 'internal') {
    tally.find('5xx', `error code "internal" (HTTP ${response.status})`, {
      ...context(inspection),
      response: excerpt(scanner, text),
    });
  }
  if (request.channel === 'mcp' && text) inspectJsonRpc(inspection, text, contentType);

  const guarded = /^\/(api\/|mcp)/.test(decodeLoosely(request.path));
  if (
    request.foreignOrigin &&
    guarded &&
    response.status >= 200 &&
    response.status < 300 &&
    /^(GET|POST|PUT|DELETE)$/.test(request.method)
  ) {
    tally.find(
      'policy',
      `HTTP ${response.status} to a foreign Origin on ${request.method} ${request.path.slice(0, 80)}`,
      context(inspection),
    );
  }
}

function decodeLoosely(path: string): string {
  try {
    return decodeURIComponent(path);
  } catch {
    return path;
  }
}

/** JSON-RPC answers: -32603 (internal error) and tool results ending in "[internal]" count as 5xx. */
export function inspectJsonRpc(inspection: Inspection, text: string, contentType: string): void {
  const messages: unknown[] = [];
  const push = (json: string) => {
    try {
      const parsed: unknown = JSON.parse(json);
      messages.push(...(Array.isArray(parsed) ? (parsed as unknown[]) : [parsed]));
    } catch {
      // Not JSON: nothing to look at.
    }
  };
  if (contentType.includes('event-stream')) {
    for (const line of text.split('\n')) if (line.startsWith('data: ')) push(line.slice(6));
  } else push(text);
  for (const message of messages) {
    if (!message || typeof message !== 'object') continue;
    const { error, result } = message as {
      error?: { code?: unknown };
      result?: { isError?: unknown; content?: unknown };
    };
    if (error?.code === -32603) {
      // The MCP SDK answers a request whose params fail its schema with -32603 and the zod issue list.
      const message = (error as { message?: unknown }).message;
      const said = typeof message === 'string' ? message : '';
      const invalidParams = /^\s*\[\s*\{/.test(said);
      const detail = invalidParams
        ? 'JSON-RPC internal error (-32603) for invalid params (should be -32602)'
        : `JSON-RPC internal error (-32603): ${said.replace(/sp_[\w-]+/g, 'sp_…').slice(0, 60)}`;
      inspection.tally.find('5xx', detail, {
        ...context(inspection),
        response: excerpt(inspection.scanner, text),
      });
    }
    if (result?.isError === true && Array.isArray(result.content)) {
      const said = result.content
        .map((part: { text?: unknown }) => (typeof part.text === 'string' ? part.text : ''))
        .join(' ');
      const code = /\[([a-z_]+)\]\s*$/.exec(said)?.[1];
      if (code === 'internal') {
        inspection.tally.find('5xx', 'tool error [internal]', {
          ...context(inspection),
          response: excerpt(inspection.scanner, said),
        });
      } else if (code && REFUSAL_CODES.has(code)) inspection.tally.refuse(code);
    }
  }
}

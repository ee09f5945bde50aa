import type { UserName } from './keys.js';

/**
 * Fuzz inputs as plain data, so they can be printed, saved in the JSON report and replayed. Strings may
 * hold templates resolved only when sent: `{{key:USER}}` (keys differ per run and must never land in a
 * report), `{{b64key:USER}}`, `{{host}}`, `{{origin}}` (the port differs per run) and `{{hid:N}}` (the Nth
 * history id seen so far, so inputs reach real items without making generation depend on timing).
 */
export type Channel = 'rest' | 'mcp' | 'static' | 'health' | 'ws';

export interface HttpInput {
  readonly kind: 'http';
  readonly channel: Channel;
  readonly label: string;
  readonly user?: UserName;
  readonly method: string;
  readonly path: string;
  readonly headers: readonly (readonly [string, string])[];
  /** A string is a template (sent as UTF-8); a Buffer is sent byte for byte. */
  readonly body?: string | Buffer;
  readonly deadlineMs: number;
  /** The client hangs up after this long (cancellation by disconnect). */
  readonly abortAfterMs?: number;
  /** Sent this long after the main request starts, on its own connection (e.g. notifications/cancelled). */
  readonly followUp?: { readonly afterMs: number; readonly input: HttpInput };
  /** A browser-style request from a foreign Origin: a 2xx on /api or /mcp breaks the Origin policy. */
  readonly foreignOrigin?: boolean;
}

export type WsStep =
  | { readonly op: 'text'; readonly data: string }
  | { readonly op: 'bytes-as-text'; readonly data: Buffer }
  | { readonly op: 'binary'; readonly size: number }
  | { readonly op: 'speak'; readonly text: string; readonly voice?: string }
  | { readonly op: 'played-last' }
  | { readonly op: 'ping' }
  | { readonly op: 'wait'; readonly ms: number }
  | { readonly op: 'close'; readonly code?: number }
  | { readonly op: 'terminate' };

/** A player session through the `ws` client: handshake, then steps in order. */
export interface WsInput {
  readonly kind: 'ws';
  readonly channel: 'ws';
  readonly label: string;
  readonly user?: UserName;
  readonly protocols: readonly string[];
  readonly origin?: string;
  readonly steps: readonly WsStep[];
  readonly deadlineMs: number;
}

/** A handshake written by hand (headers `ws` would refuse to send), then raw frame bytes if it opens. */
export interface WsRawInput {
  readonly kind: 'ws-raw';
  readonly channel: 'ws';
  readonly label: string;
  readonly path: string;
  readonly headers: readonly (readonly [string, string])[];
  readonly frames: readonly Buffer[];
  readonly deadlineMs: number;
}

export type FuzzInput = HttpInput | WsInput | WsRawInput;

export interface TemplateContext {
  readonly port: number;
  readonly keyOf: (user: string) => string;
  readonly historyId: (n: number) => string;
}

export function resolveTemplate(text: string, context: TemplateContext): string {
  return text.replace(
    /\{\{(key|b64key|host|origin|hid)(?::([^}]*))?\}\}/g,
    (_match, name: string, arg: string = '') => {
      switch (name) {
        case 'key':
          return context.keyOf(arg);
        case 'b64key':
          return Buffer.from(context.keyOf(arg)).toString('base64url');
        case 'host':
          return `127.0.0.1:${context.port}`;
        case 'origin':
          return `http://127.0.0.1:${context.port}`;
        default:
          return context.historyId(Number(arg));
      }
    },
  );
}

/** A one-line description for tables and finding lists (templates left unresolved: no keys). */
export function describeInput(input: FuzzInput): string {
  if (input.kind === 'ws') {
    return `${input.label}: WS [${input.protocols.join(', ')}] ${input.steps.map((step) => step.op).join(' ')}`;
  }
  const body =
    input.kind === 'http' && input.body !== undefined
      ? ` body ${typeof input.body === 'string' ? JSON.stringify(input.body.slice(0, 160)) : `<${input.body.length} bytes>`}`
      : '';
  return `${input.label}: ${input.kind === 'http' ? input.method : 'GET'} ${input.path.slice(0, 160)}${body}`;
}

/** JSON-safe form of an input (Buffers as base64) for `--json` reports and replays. */
export function serialiseInput(input: FuzzInput): unknown {
  return JSON.parse(
    JSON.stringify(input, (_key, value: unknown) => {
      if (value && typeof value === 'object' && (value as { type?: unknown }).type === 'Buffer') {
        return { base64: Buffer.from((value as { data: number[] }).data).toString('base64') };
      }
      if (typeof value === 'string' && value.length > 2000)
        return `${value.slice(0, 2000)}…(${value.length} chars)`;
      return value;
    }),
  );
}

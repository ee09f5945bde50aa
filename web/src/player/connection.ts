import {
  BEARER_SUBPROTOCOL_PREFIX,
  PLAYER_SUBPROTOCOL,
  type ClientMessage,
  type ServerMessage,
} from '@earshot/protocol';
import { base64url } from '../key.js';

export type ConnectionState =
  | { readonly kind: 'connecting' }
  | { readonly kind: 'open'; readonly user: string; readonly engine: string }
  | { readonly kind: 'closed'; readonly code: number; readonly retryInMs: number }
  | { readonly kind: 'idle' };

export interface ConnectionEvents {
  onState(state: ConnectionState): void;
  onMessage(message: ServerMessage): void;
  onAudio(chunk: ArrayBuffer): void;
}

/** The `/ws` player channel with the key as a subprotocol, reconnecting with jittered exponential backoff. */
export class PlayerConnection {
  private socket: WebSocket | null = null;
  private delay = 500;
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly url: string,
    private readonly key: string,
    private readonly events: ConnectionEvents,
  ) {}

  connect(): void {
    clearTimeout(this.timer);
    this.events.onState({ kind: 'connecting' });
    const ws = new WebSocket(this.url, [
      PLAYER_SUBPROTOCOL,
      `${BEARER_SUBPROTOCOL_PREFIX}${base64url(this.key)}`,
    ]);
    ws.binaryType = 'arraybuffer';
    this.socket = ws;
    ws.onmessage = (event: MessageEvent<string | ArrayBuffer>) => {
      if (typeof event.data !== 'string') return this.events.onAudio(event.data);
      const message = JSON.parse(event.data) as ServerMessage;
      if (message.type === 'hello') {
        this.delay = 500;
        this.events.onState({ kind: 'open', user: message.user, engine: message.engine });
      }
      this.events.onMessage(message);
    };
    ws.onclose = (event) => {
      if (this.socket !== ws) return;
      this.socket = null;
      const retryInMs = this.delay;
      this.events.onState({ kind: 'closed', code: event.code, retryInMs });
      this.timer = setTimeout(() => this.connect(), retryInMs);
      // Capped and jittered, so many tabs do not reconnect in lockstep after a restart.
      this.delay = Math.min(15_000, this.delay * 2) * (0.8 + Math.random() * 0.4);
    };
  }

  send(message: ClientMessage): void {
    if (this.socket?.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify(message));
  }

  close(): void {
    clearTimeout(this.timer);
    const socket = this.socket;
    this.socket = null;
    socket?.close();
    this.events.onState({ kind: 'idle' });
  }
}

/** `/ws` on the API's origin, ws: or wss: to match. */
export function playerSocketUrl(apiBaseUrl: string): string {
  const url = new URL('ws', apiBaseUrl ? `${apiBaseUrl}/` : location.href);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  return url.toString();
}

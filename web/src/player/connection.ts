import {
  BEARER_SUBPROTOCOL_PREFIX,
  CLOSE_CODES,
  PLAYER_SUBPROTOCOL,
  SPEECH_TOKEN_SUBPROTOCOL_PREFIX,
  type ClientMessage,
  type ServerMessage,
} from '@earshot/protocol';
import { base64url } from '../key.js';
import { answers, Backoff, healthUrl, ServerWatch } from './reconnect.js';

export type ConnectionState =
  | { readonly kind: 'connecting' }
  | { readonly kind: 'open'; readonly user: string; readonly engine: string }
  | {
      readonly kind: 'closed';
      readonly code: number;
      readonly retryInMs: number;
      /** The server said it was going away (1001, 1012), and has not been reached since. */
      readonly restarting: boolean;
    }
  | { readonly kind: 'idle' };

export interface ConnectionEvents {
  onState(state: ConnectionState): void;
  onMessage(message: ServerMessage): void;
  onAudio(chunk: ArrayBuffer): void;
}

/**
 * How a player proves who it is: the user's key (the console), or a token for one speech (the in-chat player,
 * which hears that speech once and does not reconnect).
 */
export type PlayerCredential = { readonly key: string } | { readonly speechToken: string };

function subprotocolOf(credential: PlayerCredential): string {
  return 'key' in credential
    ? `${BEARER_SUBPROTOCOL_PREFIX}${base64url(credential.key)}`
    : `${SPEECH_TOKEN_SUBPROTOCOL_PREFIX}${credential.speechToken}`;
}

/** Close codes of a server going away on purpose: a shutdown or restart, soon over. */
const GOING_AWAY = new Set([1001, 1012]);

/**
 * The `/ws` player channel with the key as a subprotocol, reconnecting with jittered exponential backoff,
 * and at once when a server that went away answers its `/healthz` again (see reconnect.ts).
 */
export class PlayerConnection {
  private socket: WebSocket | null = null;
  private readonly backoff = new Backoff();
  private readonly watch: ServerWatch;
  private restarting = false;
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly url: string,
    private readonly credential: PlayerCredential,
    private readonly events: ConnectionEvents,
  ) {
    const health = healthUrl(url);
    this.watch = new ServerWatch({
      probe: () => answers(health),
      onBack: () => {
        this.backoff.reset();
        this.connect();
      },
    });
  }

  connect(): void {
    clearTimeout(this.timer);
    this.events.onState({ kind: 'connecting' });
    const ws = new WebSocket(this.url, [PLAYER_SUBPROTOCOL, subprotocolOf(this.credential)]);
    ws.binaryType = 'arraybuffer';
    this.socket = ws;
    ws.onmessage = (event: MessageEvent<string | ArrayBuffer>) => {
      if (typeof event.data !== 'string') return this.events.onAudio(event.data);
      const message = JSON.parse(event.data) as ServerMessage;
      if (message.type === 'hello') {
        this.backoff.reset();
        this.watch.stop();
        this.restarting = false;
        this.events.onState({ kind: 'open', user: message.user, engine: message.engine });
      }
      this.events.onMessage(message);
    };
    ws.onclose = (event) => {
      if (this.socket !== ws) return;
      this.socket = null;
      // Kept across the failed attempts that follow (1006: nothing listens yet) until a hello.
      if (GOING_AWAY.has(event.code)) this.restarting = true;
      // A speech token opens one speech from its start: reconnecting would play it again.
      if (!('key' in this.credential)) {
        this.events.onState({ kind: 'closed', code: event.code, retryInMs: -1, restarting: false });
        return;
      }
      // Moved (the proxy now routes this user elsewhere): the new server is up, so go at once; a little jitter
      // keeps the moved players of one task from arriving in the same millisecond.
      const retryInMs = event.code === CLOSE_CODES.moved ? Math.random() * 250 : this.backoff.next();
      this.events.onState({ kind: 'closed', code: event.code, retryInMs, restarting: this.restarting });
      this.timer = setTimeout(() => this.connect(), retryInMs);
      this.watch.start();
    };
  }

  send(message: ClientMessage): void {
    if (this.socket?.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify(message));
  }

  close(): void {
    clearTimeout(this.timer);
    this.watch.stop();
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

import type { ServerMessage } from '@earshot/protocol';
import WebSocket from 'ws';

export interface ReceivedFrame {
  readonly at: number;
  readonly bytes: Buffer;
}

export interface TestPlayer {
  readonly socket: WebSocket;
  readonly messages: (ServerMessage & { at: number })[];
  readonly frames: ReceivedFrame[];
  /** Resolves with the first message (past or future) matching the predicate. */
  waitFor<T extends ServerMessage['type']>(
    type: T,
    predicate?: (message: Extract<ServerMessage, { type: T }>) => boolean,
    timeoutMs?: number,
  ): Promise<Extract<ServerMessage, { type: T }> & { at: number }>;
  /** The messages received so far of one type (and matching the predicate), in order. */
  received<T extends ServerMessage['type']>(
    type: T,
    predicate?: (message: Extract<ServerMessage, { type: T }>) => boolean,
  ): (Extract<ServerMessage, { type: T }> & { at: number })[];
  audioOf(id: string): Buffer;
  send(message: unknown): void;
  close(): Promise<void>;
  readonly closed: Promise<{ code: number; reason: string; at: number }>;
}

export function playerProtocols(key: string): string[] {
  return ['earshot.v1', `bearer.${Buffer.from(key).toString('base64url')}`];
}

function ofType<T extends ServerMessage['type']>(type: T) {
  return (
    message: ServerMessage & { at: number },
  ): message is Extract<ServerMessage, { type: T }> & { at: number } => message.type === type;
}

/**
 * A player like the browser's: subprotocol auth, records every message and audio frame with its time. With
 * `accept` it says which audio types it decodes, with `audio` whether anyone hears it (`state`), and resolves
 * once the server has taken that in (a ping answered after it, on the same ordered socket); without, it gets
 * the server's default (Ogg Opus) and counts as reached but not listening.
 */
export async function connectPlayer(
  baseUrl: string,
  key: string,
  options: {
    origin?: string;
    accept?: string[];
    audio?: 'on' | 'off';
    /** Offered instead of the key's (an in-chat player's speech token). */
    protocols?: string[];
  } = {},
): Promise<TestPlayer> {
  const url = `${baseUrl.replace(/^http/, 'ws')}/ws`;
  const socket = new WebSocket(url, options.protocols ?? playerProtocols(key), {
    origin: options.origin ?? baseUrl,
  });
  const messages: (ServerMessage & { at: number })[] = [];
  const frames: ReceivedFrame[] = [];
  // Binary frames belong to the speech most recently started and not yet ended.
  const audio = new Map<string, Buffer[]>();
  let current: string | undefined;
  const listeners = new Set<() => void>();
  socket.on('message', (data, isBinary) => {
    const at = performance.now();
    if (isBinary) {
      const bytes = Buffer.from(data as Buffer);
      frames.push({ at, bytes });
      if (current) audio.get(current)?.push(bytes);
    } else {
      const message = JSON.parse((data as Buffer).toString()) as ServerMessage;
      if (message.type === 'speech.start') {
        current = message.id;
        audio.set(message.id, []);
      }
      if (message.type === 'speech.end' && current === message.id) current = undefined;
      messages.push({ ...message, at });
    }
    for (const listener of listeners) listener();
  });
  const closed = new Promise<{ code: number; reason: string; at: number }>((resolve) =>
    socket.on('close', (code, reason) => resolve({ code, reason: reason.toString(), at: performance.now() })),
  );
  await new Promise<void>((resolve, reject) => {
    socket.once('open', resolve);
    socket.once('error', reject);
    socket.once('unexpected-response', (_request, response) =>
      reject(new Error(`WebSocket refused with HTTP ${response.statusCode}`)),
    );
  });
  const player: TestPlayer = {
    socket,
    messages,
    frames,
    waitFor(type, predicate = () => true, timeoutMs = 15_000) {
      const find = () => messages.filter(ofType(type)).find((m) => predicate(m));
      const found = find();
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          listeners.delete(check);
          reject(
            new Error(
              `no ${type} message within ${timeoutMs} ms; got ${messages.map((m) => m.type).join(', ')}`,
            ),
          );
        }, timeoutMs);
        const check = () => {
          const match = find();
          if (!match) return;
          clearTimeout(timer);
          listeners.delete(check);
          resolve(match);
        };
        listeners.add(check);
      });
    },
    received: (type, predicate = () => true) => messages.filter(ofType(type)).filter((m) => predicate(m)),
    audioOf: (id) => Buffer.concat(audio.get(id) ?? []),
    send: (message) => socket.send(JSON.stringify(message)),
    async close() {
      if (socket.readyState === WebSocket.CLOSED) return;
      socket.close();
      await closed;
    },
    closed,
  };
  if (options.accept || options.audio) {
    await player.waitFor('hello');
    await sendState(player, { accept: options.accept, audio: options.audio });
  }
  return player;
}

/** Sends `state` and resolves once the server has taken it in (a ping sent after it is answered). */
export async function sendState(player: TestPlayer, state: Record<string, unknown>): Promise<void> {
  player.send({ type: 'state', ...state });
  const pongs = player.received('pong').length;
  player.send({ type: 'ping' });
  await player.waitFor('pong', () => player.received('pong').length > pongs);
}

/**
 * Tries to open a player and returns the HTTP status of the refusal (or 101 if it opened). `host` replaces the
 * Host header (a DNS-rebinding page reaches the loopback server under its own name).
 */
export function playerHandshakeStatus(
  baseUrl: string,
  protocols: string[],
  origin?: string,
  host?: string,
): Promise<number> {
  const socket = new WebSocket(`${baseUrl.replace(/^http/, 'ws')}/ws`, protocols, {
    origin: origin ?? baseUrl,
    ...(host === undefined ? {} : { headers: { host } }),
  });
  return new Promise((resolve, reject) => {
    socket.once('open', () => {
      socket.close();
      resolve(101);
    });
    socket.once('unexpected-response', (_request, response) => {
      resolve(response.statusCode ?? 0);
      socket.terminate();
    });
    socket.once('error', (error) => {
      if (!String(error.message).includes('Unexpected server response')) reject(error);
    });
  });
}

import WebSocket from 'ws';

export interface PlayerMessage {
  readonly type: string;
  readonly id?: string;
  readonly code?: string;
  readonly [field: string]: unknown;
}

/**
 * The real user's browser tab: subprotocol auth, audio on, reports `played` when a speech ends (as the
 * console does). It records what arrives so a scenario can check that speech still reaches people.
 */
export class Player {
  readonly messages: PlayerMessage[] = [];
  audioBytes = 0;
  closed = false;
  private readonly listeners = new Set<() => void>();

  private constructor(readonly socket: WebSocket) {
    socket.on('message', (data, isBinary) => {
      if (isBinary) this.audioBytes += (data as Buffer).length;
      else {
        try {
          const message = JSON.parse((data as Buffer).toString()) as PlayerMessage;
          this.messages.push(message);
          if (message.type === 'speech.end' && message.id)
            socket.send(JSON.stringify({ type: 'played', id: message.id }));
        } catch {
          this.messages.push({ type: 'unparseable' });
        }
      }
      for (const listener of this.listeners) listener();
    });
    socket.on('close', () => {
      this.closed = true;
      for (const listener of this.listeners) listener();
    });
    socket.on('error', () => undefined);
  }

  static connect(baseUrl: string, key: string, timeoutMs = 10_000): Promise<Player> {
    const socket = new WebSocket(
      `${baseUrl.replace(/^http/, 'ws')}/ws`,
      ['earshot.v1', `bearer.${Buffer.from(key).toString('base64url')}`],
      {
        origin: baseUrl,
        handshakeTimeout: timeoutMs,
      },
    );
    return new Promise((resolve, reject) => {
      socket.once('open', () => {
        socket.send(JSON.stringify({ type: 'state', audio: 'on' }));
        resolve(new Player(socket));
      });
      socket.once('error', reject);
      socket.once('unexpected-response', (_request, response) => {
        socket.terminate();
        reject(new Error(`player refused with HTTP ${response.statusCode}`));
      });
    });
  }

  /** The first message (past or future) matching, or undefined after `timeoutMs` or when the socket closes. */
  waitFor(
    predicate: (message: PlayerMessage) => boolean,
    timeoutMs: number,
  ): Promise<PlayerMessage | undefined> {
    const found = this.messages.find(predicate);
    if (found || this.closed) return Promise.resolve(found);
    return new Promise((resolve) => {
      const check = () => {
        const match = this.messages.find(predicate);
        if (!match && !this.closed) return;
        clearTimeout(timer);
        this.listeners.delete(check);
        resolve(match);
      };
      const timer = setTimeout(() => {
        this.listeners.delete(check);
        resolve(undefined);
      }, timeoutMs);
      this.listeners.add(check);
    });
  }

  /** Resolves when the next binary frame arrives (or after `timeoutMs`, false). */
  nextAudio(timeoutMs: number): Promise<boolean> {
    const before = this.audioBytes;
    return new Promise((resolve) => {
      const check = () => {
        if (this.audioBytes === before && !this.closed) return;
        clearTimeout(timer);
        this.listeners.delete(check);
        resolve(this.audioBytes > before);
      };
      const timer = setTimeout(() => {
        this.listeners.delete(check);
        resolve(false);
      }, timeoutMs);
      this.listeners.add(check);
    });
  }

  close(): void {
    this.socket.terminate();
  }
}

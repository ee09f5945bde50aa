import { connect, type Socket } from 'node:net';

/** A bare TCP connection to a server, for requests no HTTP client would send (slow, partial, oversized). */
export interface RawConnection {
  readonly socket: Socket;
  /** Everything the server sent so far. */
  received(): string;
  /** Resolves when the server has sent a complete response head (`HTTP/1.1 <status> …\r\n\r\n`). */
  head(): Promise<{ status: number; head: string }>;
  /** Resolves with what the server sent once the connection is closed (by either side). */
  readonly closed: Promise<string>;
  write(data: string | Buffer): void;
}

export async function openRaw(baseUrl: string): Promise<RawConnection> {
  const { hostname, port } = new URL(baseUrl);
  const socket = connect({ host: hostname, port: Number(port) });
  let data = '';
  const listeners = new Set<() => void>();
  socket.on('data', (chunk: Buffer) => {
    data += chunk.toString('latin1');
    for (const listener of listeners) listener();
  });
  // A reset is one way a server closes on us; the test looks at what it sent before.
  socket.on('error', () => undefined);
  const closed = new Promise<string>((resolve) => socket.once('close', () => resolve(data)));
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  const parseHead = () => {
    const end = data.indexOf('\r\n\r\n');
    if (end < 0) return undefined;
    const head = data.slice(0, end);
    return { status: Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0), head };
  };
  return {
    socket,
    received: () => data,
    head() {
      const found = parseHead();
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const check = () => {
          const head = parseHead();
          if (!head) return;
          listeners.delete(check);
          resolve(head);
        };
        listeners.add(check);
        void closed.then(() => {
          if (listeners.delete(check)) reject(new Error(`closed before a response head; got ${data}`));
        });
      });
    },
    closed,
    write: (chunk) => void socket.write(chunk),
  };
}

/** Rejects with `message` if `promise` has not settled within `ms` — a bound for failures, not a wait. */
export function within<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

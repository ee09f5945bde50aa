/**
 * A stand-in Earshot task for proxy tests: says which backend answered and which key it saw, streams SSE on /mcp,
 * and speaks the player subprotocol on /ws.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';

export interface EchoBackend {
  readonly name: string;
  readonly port: number;
  readonly address: string;
  /** Requests seen, as "METHOD path key". */
  readonly seen: string[];
  /** Ends every /mcp event stream waiting for it with its second event (the first goes out at once). */
  releaseEventStreams(): void;
  close(): Promise<void>;
}

/** The key a player offers as "bearer.<base64url(key)>", as the server reads it. */
export function routeKeyFromSubprotocols(header: string | undefined): string | undefined {
  for (const offered of (header ?? '').split(',')) {
    const value = offered.trim();
    if (!value.startsWith('bearer.')) continue;
    const key = Buffer.from(value.slice('bearer.'.length), 'base64url').toString('utf8');
    if (/^[\x21-\x7e]{1,512}$/.test(key)) return key;
  }
  return undefined;
}

/** The headers a proxy should set or pass through. */
function forwarded(request: IncomingMessage): Record<string, string | undefined> {
  const one = (name: string): string | undefined => {
    const value = request.headers[name];
    return Array.isArray(value) ? value.join(', ') : value;
  };
  return Object.fromEntries(
    [
      'host',
      'x-forwarded-for',
      'x-forwarded-proto',
      'x-forwarded-host',
      'x-real-ip',
      'x-request-id',
      'origin',
      'x-earshot-origin-verify',
    ].map((name) => [name, one(name)]),
  );
}

function bearerKey(request: IncomingMessage): string {
  const match = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '');
  return match?.[1] ?? '';
}

export async function startEchoBackend(name: string, port = 0): Promise<EchoBackend> {
  const seen: string[] = [];
  const heldStreams = new Set<ServerResponse>();
  const server: Server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0] ?? '/';
    seen.push(`${request.method ?? ''} ${path} ${bearerKey(request)}`);
    if (path === '/mcp' && request.method === 'POST') {
      // Two SSE events; the second waits for releaseEventStreams(), so a client that needs the first before
      // releasing it never gets either through a proxy that buffers.
      response.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache' });
      response.write(`event: message\ndata: ${JSON.stringify({ backend: name, n: 1 })}\n\n`);
      heldStreams.add(response);
      response.once('close', () => heldStreams.delete(response));
      return;
    }
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      response.writeHead(200, { 'Content-Type': 'application/json', 'X-Content-Type-Options': 'nosniff' });
      response.end(
        JSON.stringify({
          backend: name,
          method: request.method,
          path,
          key: bearerKey(request),
          bytes: Buffer.concat(chunks).length,
          headers: forwarded(request),
        }),
      );
    });
  });
  const sockets = new WebSocketServer({
    server,
    path: '/ws',
    handleProtocols: (protocols) => (protocols.has('earshot.v1') ? 'earshot.v1' : false),
  });
  sockets.on('connection', (socket, request) => {
    const key = routeKeyFromSubprotocols(request.headers['sec-websocket-protocol']) ?? '';
    seen.push(`WS /ws ${key}`);
    socket.send(JSON.stringify({ type: 'hello', backend: name, key, headers: forwarded(request) }));
    socket.on('message', (data, isBinary) =>
      socket.send(isBinary ? data : `echo:${(data as Buffer).toString()}`, { binary: isBinary }),
    );
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const actualPort = (server.address() as AddressInfo).port;
  return {
    name,
    port: actualPort,
    address: `127.0.0.1:${actualPort}`,
    seen,
    releaseEventStreams: () => {
      for (const response of heldStreams) {
        response.end(`event: message\ndata: ${JSON.stringify({ backend: name, n: 2 })}\n\n`);
      }
      heldStreams.clear();
    },
    close: async () => {
      for (const client of sockets.clients) client.terminate();
      await new Promise<void>((resolve) => sockets.close(() => resolve()));
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

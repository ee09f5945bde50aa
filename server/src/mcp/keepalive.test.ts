import { once } from 'node:events';
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { keepEventStreamAlive, SSE_KEEPALIVE_MS } from './keepalive.js';

// A real HTTP server whose handler the test controls, and a client that records every chunk as it arrives.
let server: Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  if (server) await new Promise<void>((resolve) => server!.close(() => resolve()));
  server = undefined;
});

async function serve(handler: (response: ServerResponse) => void): Promise<string> {
  server = createServer((_request, response) => handler(response));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
}

interface Received {
  readonly response: IncomingMessage;
  body: string;
  /** Resolves once the body so far contains `text` `times` times. */
  seen(text: string, times?: number): Promise<void>;
  readonly ended: Promise<void>;
}

async function get(url: string): Promise<Received> {
  const req = request(url);
  req.end();
  const [response] = (await once(req, 'response')) as [IncomingMessage];
  const listeners = new Set<() => void>();
  const received: Received = {
    response,
    body: '',
    seen: (text, times = 1) =>
      new Promise<void>((resolve) => {
        const check = (): void => {
          if (received.body.split(text).length - 1 >= times) {
            listeners.delete(check);
            resolve();
          }
        };
        listeners.add(check);
        check();
      }),
    ended: once(response, 'end').then(() => undefined),
  };
  response.setEncoding('utf8');
  response.on('data', (chunk: string) => {
    received.body += chunk;
    for (const listener of [...listeners]) listener();
  });
  return received;
}

describe('keepEventStreamAlive', () => {
  it('defaults to 20 s, a third of the 60 s origin read timeout it must beat', () => {
    expect(SSE_KEEPALIVE_MS).toBe(20_000);
    expect(3 * SSE_KEEPALIVE_MS).toBeLessThanOrEqual(60_000);
  });

  it('writes SSE comments into a silent event stream, between events, until the stream ends', async () => {
    let respond!: ServerResponse;
    const url = await serve((response) => {
      respond = response;
      keepEventStreamAlive(response, 20);
      // As the MCP SDK does: the head with its content type, one event, then silence.
      response.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache' });
      response.write('event: message\ndata: {"n":1}\n\n');
    });
    const client = await get(url);
    expect(client.response.headers['content-type']).toBe('text/event-stream');
    expect(client.response.headers['x-accel-buffering']).toBe('no');
    await client.seen(': keepalive\n\n', 3);
    respond.end('event: message\ndata: {"n":2}\n\n');
    await client.ended;
    // Every keepalive sits between whole events, so an SSE parser sees two events and nothing else.
    const events = client.body.split('\n\n').filter((block) => block !== '');
    expect(events.filter((block) => block.startsWith('event: message'))).toHaveLength(2);
    expect(events.every((block) => block.startsWith('event: message') || block === ': keepalive')).toBe(true);
    expect(client.body.endsWith('data: {"n":2}\n\n')).toBe(true);
  });

  it('leaves JSON responses alone', async () => {
    let respond!: ServerResponse;
    let ticks = 0;
    const url = await serve((response) => {
      respond = response;
      keepEventStreamAlive(response, 5);
      response.writeHead(200, { 'Content-Type': 'application/json' });
      response.write('{"jsonrpc":"2.0",');
      // Count the keepalive timer's turns through a second timer at the same pace.
      const counter = setInterval(() => {
        ticks += 1;
        if (ticks === 10) {
          clearInterval(counter);
          respond.end('"id":1}');
        }
      }, 5);
    });
    const client = await get(url);
    await client.ended;
    expect(client.body).toBe('{"jsonrpc":"2.0","id":1}');
  });

  it('writes nothing more once the client has gone away', async () => {
    const closed = new Promise<ServerResponse>((resolve) => {
      void serve((response) => {
        keepEventStreamAlive(response, 5);
        response.writeHead(200, { 'Content-Type': 'text/event-stream' });
        response.once('close', () => resolve(response));
      }).then(async (url) => {
        const client = await get(url);
        await client.seen(': keepalive');
        client.response.destroy();
      });
    });
    const response = await closed;
    let writesAfterClose = 0;
    response.write = () => {
      writesAfterClose += 1;
      return false;
    };
    // Ten turns of a timer at the keepalive's own pace: the keepalive would have fired in each.
    await new Promise<void>((resolve) => {
      let turns = 0;
      const counter = setInterval(() => {
        if (++turns === 10) {
          clearInterval(counter);
          resolve();
        }
      }, 5);
    });
    expect(writesAfterClose).toBe(0);
  });

  it('rejects an interval that is not a positive number of milliseconds', async () => {
    const url = await serve((response) => {
      expect(() => keepEventStreamAlive(response, 0)).toThrow(RangeError);
      expect(() => keepEventStreamAlive(response, 1.5)).toThrow(RangeError);
      response.end();
    });
    await (
      await get(url)
    ).ended;
  });
});

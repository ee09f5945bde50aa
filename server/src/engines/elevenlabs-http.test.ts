import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { createServer as createNetServer, type AddressInfo, type Socket } from 'node:net';
import { once } from 'node:events';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { fromElevenLabsError } from './elevenlabs-errors.js';
import {
  chunksOf,
  ElevenLabsHttp,
  ElevenLabsHttpError,
  MAX_STREAM_LINE_BYTES,
  NdjsonLines,
} from './elevenlabs-http.js';

/** A real HTTP server on loopback answering with `handle`; each request is recorded. */
async function upstream(handle: (req: IncomingMessage, res: ServerResponse, n: number) => void) {
  const seen: { url: string; key: string | undefined; body: string }[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (data: Buffer) => (body += data.toString()));
    req.on('end', () => {
      seen.push({ url: req.url ?? '', key: req.headers['xi-api-key'] as string | undefined, body });
      handle(req, res, seen.length);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push(server);
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}
const servers: Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

/** Every line NdjsonLines parses out of `parts`, fed one after another, then its end. */
function parse(...parts: (string | Uint8Array)[]): unknown[] {
  const lines = new NdjsonLines();
  const parsed = parts.flatMap((part) => lines.push(typeof part === 'string' ? Buffer.from(part) : part));
  return [...parsed, ...lines.end()];
}

describe('ElevenLabs over fetch', () => {
  it('sends the key, keeps a base URL’s path, the query and the JSON body', async () => {
    const { url, seen } = await upstream((_req, res) => res.end('{"ok":true}'));
    const http = new ElevenLabsHttp({
      apiKey: 'k1',
      baseUrl: `${url}/proxy/`,
      maxRetries: 0,
      timeoutMs: 5000,
    });
    await http.json('v1/thing', { method: 'POST', query: { a: 1, b: undefined }, json: { text: 'hi' } });
    expect(seen).toEqual([{ url: '/proxy/v1/thing?a=1', key: 'k1', body: '{"text":"hi"}' }]);
  });

  it('joins paths to a base with or without its slash, and encodes query values', async () => {
    const { url, seen } = await upstream((_req, res) => res.end('{}'));
    for (const baseUrl of [`${url}/p`, `${url}/p//`, `${url}/p/`]) {
      const http = new ElevenLabsHttp({ apiKey: 'k', baseUrl, maxRetries: 0, timeoutMs: 5000 });
      await http.json('/v1/voices/a%2Fb', { query: { search: 'a b&c=d/é', page: 2 } });
    }
    await new ElevenLabsHttp({ apiKey: 'k', baseUrl: url, maxRetries: 0, timeoutMs: 5000 }).json('v1/models');
    const asSeen = seen.map(({ url: path }) => {
      const parsed = new URL(path, 'http://upstream');
      return [parsed.pathname, Object.fromEntries(parsed.searchParams)];
    });
    const wanted = ['/p/v1/voices/a%2Fb', { search: 'a b&c=d/é', page: '2' }];
    expect(asSeen).toEqual([wanted, wanted, wanted, ['/v1/models', {}]]);
  });

  it('retries a 429 after its Retry-After, once, then answers', async () => {
    const { url, seen } = await upstream((_req, res, n) => {
      if (n === 1) res.writeHead(429, { 'retry-after': '1' }).end('{"detail":{"status":"too_many"}}');
      else res.end('[]');
    });
    const http = new ElevenLabsHttp({ apiKey: 'k', baseUrl: url, maxRetries: 1, timeoutMs: 5000 });
    expect(await http.json('v1/models')).toEqual([]);
    expect(seen).toHaveLength(2);
  });

  it('gives an error the SDK’s shape, mapped like the SDK’s, with the body read only so far', async () => {
    const { url } = await upstream((_req, res, n) => {
      if (n === 1)
        res.writeHead(429, { 'retry-after': '7' }).end('{"detail":{"status":"concurrent_limit_exceeded"}}');
      // A body far past the cap: the error is still raised (not buffered whole, not hanging).
      else res.writeHead(500).end('x'.repeat(5 * 1024 * 1024));
    });
    const http = new ElevenLabsHttp({ apiKey: 'k', baseUrl: url, maxRetries: 0, timeoutMs: 5000 });
    const busy = await http.request('v1/x').catch((error: unknown) => error);
    expect(busy).toBeInstanceOf(ElevenLabsHttpError);
    const mapped = fromElevenLabsError(busy, {});
    expect(mapped.code).toBe('upstream_busy');
    expect(mapped.retryAfterSeconds).toBe(7);
    expect(mapped.message).toContain('concurrent_limit_exceeded');
    const failed = (await http.request('v1/x').catch((error: unknown) => error)) as ElevenLabsHttpError;
    expect(failed.statusCode).toBe(500);
    expect((failed.body as string).length).toBeLessThanOrEqual(64 * 1024);
  });

  it('sends a request again, once, when the kept-alive connection it went out on was being closed', async () => {
    // A raw server: answers the first request on a connection and keeps it open, then drops that
    // connection when the next request arrives on it without answering (a server closing an idle socket).
    let connections = 0;
    const server = createNetServer((socket) => {
      connections++;
      let served = 0;
      socket.on('data', () => {
        if (served++ === 0)
          socket.write('HTTP/1.1 200 OK\r\ncontent-length: 2\r\nkeep-alive: timeout=60\r\n\r\n[]');
        else socket.destroy();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const http = new ElevenLabsHttp({ apiKey: 'k', baseUrl: url, maxRetries: 0, timeoutMs: 5000 });
      expect(await http.json('v1/models')).toEqual([]);
      expect(await http.json('v1/models')).toEqual([]);
      expect(connections).toBe(2);
      http.close();
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('keeps an idle connection a minute for the next speech, or as long as the server announces less a second', async () => {
    // Node's own agents and fetch drop idle connections after 4-5 s, so all but back-to-back speeches would pay
    // new TCP and TLS handshakes. Each connection the client opens is seen through Node's diagnostics channel.
    const sockets: Socket[] = [];
    const opened = (message: unknown) => sockets.push((message as { socket: Socket }).socket);
    subscribe('net.client.socket', opened);
    const cases = [
      { announced: undefined, kept: 60_000 },
      { announced: 'timeout=5', kept: 4_000 },
      { announced: 'timeout=600', kept: 60_000 },
    ];
    try {
      for (const { announced, kept } of cases) {
        // A raw server, so that its answer carries exactly the Keep-Alive header given (Node's adds its own).
        const server = createNetServer((socket) =>
          socket.on('data', () =>
            socket.write(
              `HTTP/1.1 200 OK\r\ncontent-length: 2\r\n${announced ? `keep-alive: ${announced}\r\n` : ''}\r\n[]`,
            ),
          ),
        );
        await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
        const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
        const http = new ElevenLabsHttp({ apiKey: 'k', baseUrl: url, maxRetries: 0, timeoutMs: 5000 });
        try {
          const before = sockets.length;
          expect(await http.json('v1/models')).toEqual([]);
          const socket = sockets[before]!;
          // Once the answer is read the socket waits in the pool, timed out after the idle time.
          await vi.waitFor(() => expect(socket.timeout, String(announced)).toBe(kept));
          expect(socket.destroyed).toBe(false);
          expect(await http.json('v1/models')).toEqual([]);
          expect(sockets.length - before, 'the second request reused the connection').toBe(1);
        } finally {
          http.close();
          await new Promise((resolve) => server.close(resolve));
        }
      }
    } finally {
      unsubscribe('net.client.socket', opened);
    }
  });

  it('gives up on headers that do not come within the timeout, as upstream_busy', async () => {
    const { url } = await upstream(() => undefined);
    const http = new ElevenLabsHttp({ apiKey: 'k', baseUrl: url, maxRetries: 0, timeoutMs: 100 });
    const error = await http.request('v1/x').catch((thrown: unknown) => thrown);
    expect((error as Error).name).toBe('ElevenLabsTimeoutError');
    expect(fromElevenLabsError(error, {}).code).toBe('upstream_busy');
  });

  it('reads response headers by name in any case, repeated ones joined, absent ones null', async () => {
    const { url } = await upstream((_req, res) => {
      res.setHeader('Character-Cost', '42');
      res.setHeader('request-id', 'r1');
      res.setHeader('x-repeated', ['a', 'b']);
      res.end('{}');
    });
    const http = new ElevenLabsHttp({ apiKey: 'k', baseUrl: url, maxRetries: 0, timeoutMs: 5000 });
    const { headers, body } = await http.request('v1/x');
    body.resume();
    expect(headers.get('character-cost')).toBe('42');
    expect(headers.get('REQUEST-ID')).toBe('r1');
    expect(headers.get('x-repeated')).toBe('a, b');
    expect(headers.get('retry-after')).toBeNull();
  });

  it('reads NDJSON lines split anywhere, even inside a character', () => {
    const euro = Buffer.from('{"t":"€"}\n');
    const lines = parse('{"a":1}\n{"b"', ':2}\n\n', euro.subarray(0, 7), euro.subarray(7), '{"c":3}');
    expect(lines).toEqual([{ a: 1 }, { b: 2 }, { t: '€' }, { c: 3 }]);
  });

  it('refuses a line longer than the cap instead of buffering it', () => {
    const huge = 'x'.repeat(1024 * 1024);
    const parts = Array.from({ length: MAX_STREAM_LINE_BYTES / huge.length + 1 }, () => huge);
    expect(() => parse('{"a":1}\n', ...parts)).toThrow('passed');
  });
});

describe('chunksOf (a response body read as it arrives)', () => {
  /** A response from a real loopback server that writes with `write` (which may end or cut it). */
  async function respond(write: (res: ServerResponse) => void): Promise<IncomingMessage> {
    const { url } = await upstream((_req, res) => write(res));
    const http = new ElevenLabsHttp({ apiKey: 'k', baseUrl: url, maxRetries: 0, timeoutMs: 5000 });
    return (await http.request('v1/stream')).body;
  }

  async function readAll(body: IncomingMessage): Promise<string> {
    let text = '';
    for await (const chunk of chunksOf(body)) text += chunk.toString();
    return text;
  }

  it('yields every byte in order, what came with the headers included, then ends', async () => {
    const body = await respond((res) => {
      res.write('first,');
      setImmediate(() => res.end('second'));
    });
    expect(await readAll(body)).toBe('first,second');
  });

  it('pauses the body while the reader is behind, and loses nothing', async () => {
    // 200 × 64 KiB: at least 200 chunks whatever the socket coalesces, far more than may wait ahead.
    const parts = Array.from({ length: 200 }, (_, i) => Buffer.alloc(64 * 1024, i % 256));
    const body = await respond((res) => {
      let next = 0;
      const pump = () => {
        while (next < parts.length) if (!res.write(parts[next++]!)) return void res.once('drain', pump);
        res.end();
      };
      pump();
    });
    const paused = once(body, 'pause');
    const chunks = chunksOf(body);
    const received: Buffer[] = [(await chunks.next()).value as Buffer];
    // The reader takes nothing more until the body has been paused for it.
    await paused;
    for await (const chunk of chunks) received.push(chunk);
    expect(Buffer.concat(received).equals(Buffer.concat(parts))).toBe(true);
  });

  it('throws when the connection breaks before the end, after the bytes that came', async () => {
    const body = await respond((res) => {
      res.write('partial');
      setImmediate(() => res.socket?.destroy());
    });
    let text = '';
    await expect(
      (async () => {
        for await (const chunk of chunksOf(body)) text += chunk.toString();
      })(),
    ).rejects.toThrow();
    expect(text).toBe('partial');
  });

  it('throws when the body is destroyed without an error before its end (not a quiet, short ending)', async () => {
    const body = await respond((res) => res.write('first'));
    const read = (async () => {
      for await (const chunk of chunksOf(body)) if (chunk.toString() === 'first') body.destroy();
    })();
    await expect(read).rejects.toThrow('closed before its end');
  });

  it('throws at once for a body destroyed before the reader came (its close already happened)', async () => {
    for (const reason of [undefined, new Error('stopped')]) {
      const body = await respond((res) => res.write('first'));
      const closed = new Promise((resolve) => body.once('close', resolve));
      body.destroy(reason);
      await closed;
      const read = (async () => {
        for await (const chunk of chunksOf(body)) void chunk;
      })();
      await expect(read).rejects.toThrow();
    }
  });

  it('destroys the body when the reader stops early', async () => {
    const body = await respond((res) => res.write('never ends'));
    for await (const chunk of chunksOf(body)) {
      expect(chunk.toString()).toBe('never ends');
      break;
    }
    expect(body.destroyed).toBe(true);
  });
});

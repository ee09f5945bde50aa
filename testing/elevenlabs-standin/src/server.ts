import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { FliteSynthesizer } from '@earshot/flite';
import { defaultErrorBody, detailError, newRequestId, validationError } from './errors.js';
import { sendJson, type Exchange } from './exchange.js';
import { FaultQueue, type Fault } from './faults.js';
import { DEFAULT_PACING, resolvePacing, type Pacing } from './pacing.js';
import {
  getSubscription,
  getVoice,
  listModels,
  listVoices,
  searchVoices,
  type CatalogDeps,
} from './routes/catalog.js';
import { textToSpeech, type TtsMode } from './routes/tts.js';

export interface StandinOptions {
  /** Port on 127.0.0.1; 0 (default) picks a free one. */
  readonly port?: number;
  /** Keys accepted in `xi-api-key`. Default `['test-key']`. */
  readonly apiKeys?: readonly string[];
  /** Initial pacing; see `Pacing` for the defaults. */
  readonly pacing?: Partial<Pacing>;
  /** Text-to-speech requests allowed at once before 429 `too_many_concurrent_requests`. Default 10. */
  readonly maxConcurrentRequests?: number;
  /** `character_limit` of the subscription. Default 500,000. */
  readonly characterLimit?: number;
  /** Largest request body accepted; larger ones get 413. Default 1 MiB. */
  readonly maxBodyBytes?: number;
  /** Idle keep-alive sockets are closed after this long. Default 5000 ms. */
  readonly idleTimeoutMs?: number;
  /** Share a Flite worker with the caller (not closed by `close()`); by default the stand-in makes its own. */
  readonly synthesizer?: FliteSynthesizer;
}

/** What the stand-in saw of one request. */
export interface LoggedRequest {
  readonly method: string;
  readonly path: string;
  readonly query: Readonly<Record<string, string>>;
  /** The `xi-api-key` header, if sent. */
  readonly apiKey: string | undefined;
  readonly body: unknown;
  readonly requestId: string;
  /** The status answered (set once the response has finished). */
  status: number | undefined;
}

export interface Standin {
  /** `http://127.0.0.1:PORT`, to pass as the SDK's `baseUrl` or `ELEVENLABS_BASE_URL`. */
  readonly url: string;
  readonly port: number;
  /** Every request received, oldest first. */
  readonly requests: readonly LoggedRequest[];
  /** Credits billed so far (the sum of the `character-cost` headers sent). */
  readonly usage: number;
  readonly pacing: Pacing;
  setPacing(pacing: Partial<Pacing>): void;
  injectFault(fault: Fault): void;
  clearFaults(): void;
  clearRequests(): void;
  close(): Promise<void>;
}

const TTS_PATH = /^\/v1\/text-to-speech\/([^/]+)(\/stream)?(\/with-timestamps)?\/?$/;

export async function startStandin(options: StandinOptions = {}): Promise<Standin> {
  const ownSynthesizer = options.synthesizer === undefined;
  const synthesizer = options.synthesizer ?? new FliteSynthesizer();
  await synthesizer.whenReady();
  const apiKeys = new Set(options.apiKeys ?? ['test-key']);
  const maxBodyBytes = options.maxBodyBytes ?? 1024 * 1024;
  const maxConcurrentRequests = options.maxConcurrentRequests ?? 10;
  const characterLimit = options.characterLimit ?? 500_000;
  let pacing = resolvePacing(DEFAULT_PACING, options.pacing);
  const faults = new FaultQueue();
  const requests: LoggedRequest[] = [];
  const inFlight = new Set<AbortController>();
  let usage = 0;
  let generating = 0;
  let baseUrl = '';

  const catalog: CatalogDeps = {
    get baseUrl() {
      return baseUrl;
    },
    subscription: () => ({
      characterCount: usage,
      characterLimit,
      nextResetUnix: Math.floor(Date.now() / 1000) + 30 * 24 * 3600,
    }),
  };

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const startedAt = performance.now();
    const requestId = newRequestId();
    res.setHeader('request-id', requestId);
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const apiKeyHeader = req.headers['xi-api-key'];
    const apiKey = Array.isArray(apiKeyHeader) ? apiKeyHeader[0] : apiKeyHeader;
    const entry: LoggedRequest = {
      method: req.method ?? 'GET',
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      apiKey,
      body: undefined,
      requestId,
      status: undefined,
    };
    requests.push(entry);
    res.once('finish', () => (entry.status = res.statusCode));
    res.once('close', () => (entry.status ??= res.headersSent ? res.statusCode : undefined));

    const read = await readBody(req, maxBodyBytes);
    if (read === 'too-large') {
      res.setHeader('connection', 'close');
      return sendJson(
        res,
        413,
        detailError(
          'validation_error',
          'payload_too_large',
          `Request body larger than ${maxBodyBytes} bytes.`,
          requestId,
        ),
      );
    }
    let body: unknown;
    if (read.length > 0) {
      try {
        body = JSON.parse(read.toString('utf8'));
      } catch {
        return sendJson(
          res,
          422,
          validationError([{ loc: ['body', 0], msg: 'JSON decode error', type: 'json_invalid' }]),
        );
      }
    }
    (entry as { body: unknown }).body = body;

    const statusFault = faults.takeStatusFault(url.pathname);
    if (statusFault) {
      return sendJson(
        res,
        statusFault.status,
        statusFault.body ?? defaultErrorBody(statusFault.status, requestId),
        statusFault.headers,
      );
    }
    if (apiKey === undefined || !apiKeys.has(apiKey))
      return sendJson(res, 401, defaultErrorBody(401, requestId));

    const controller = new AbortController();
    inFlight.add(controller);
    res.once('close', () => {
      controller.abort();
      inFlight.delete(controller);
    });
    const exchange: Exchange = { req, res, url, requestId, body, signal: controller.signal, startedAt };
    await route(exchange);
  }

  async function route(exchange: Exchange): Promise<void> {
    const { req, res, url } = exchange;
    const path = url.pathname;
    const tts = TTS_PATH.exec(path);
    if (tts) {
      if (req.method !== 'POST') return sendJson(res, 405, { detail: 'Method Not Allowed' });
      const mode: TtsMode = tts[2]
        ? tts[3]
          ? 'stream-with-timestamps'
          : 'stream'
        : tts[3]
          ? 'with-timestamps'
          : 'convert';
      return textToSpeech(
        exchange,
        {
          synthesizer,
          pacing,
          maxConcurrentRequests,
          concurrentRequests: () => generating,
          beginRequest: () => {
            generating++;
            return () => void generating--;
          },
          bill: (credits) => void (usage += credits),
          takeByteFault: () => faults.takeByteFault(path),
        },
        decodeURIComponent(tts[1]!),
        mode,
      );
    }
    const voice = /^\/v1\/voices\/([^/]+)\/?$/.exec(path);
    const get = (handler: () => void) =>
      req.method === 'GET' ? handler() : sendJson(res, 405, { detail: 'Method Not Allowed' });
    if (voice) return get(() => getVoice(exchange, catalog, decodeURIComponent(voice[1]!)));
    switch (path.replace(/\/$/, '')) {
      case '/v2/voices':
        return get(() => searchVoices(exchange, catalog));
      case '/v1/voices':
        return get(() => listVoices(exchange, catalog));
      case '/v1/models':
        return get(() => listModels(exchange));
      case '/v1/user/subscription':
        return get(() => getSubscription(exchange, catalog));
      default:
        return sendJson(res, 404, { detail: 'Not Found' });
    }
  }

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      console.error('elevenlabs-standin: request failed', error);
      if (!res.headersSent)
        sendJson(res, 500, defaultErrorBody(500, String(res.getHeader('request-id') ?? '')));
      else res.destroy();
    });
  });
  server.keepAliveTimeout = options.idleTimeoutMs ?? 5000;
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  const sockets = new Set<Socket>();
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  baseUrl = `http://127.0.0.1:${port}`;
  let closing: Promise<void> | undefined;

  return {
    url: baseUrl,
    port,
    requests,
    get usage() {
      return usage;
    },
    get pacing() {
      return pacing;
    },
    setPacing(change) {
      pacing = resolvePacing(pacing, change);
    },
    injectFault: (fault) => faults.add(fault),
    clearFaults: () => faults.clear(),
    clearRequests: () => void requests.splice(0),
    close() {
      closing ??= (async () => {
        for (const controller of inFlight) controller.abort();
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeAllConnections();
        for (const socket of sockets) socket.destroy();
        await closed;
        if (ownSynthesizer) await synthesizer.close();
      })();
      return closing;
    },
  };
}

/** Reads the body up to `limit` bytes; beyond that, drains the rest without keeping it and reports it. */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer | 'too-large'> {
  return new Promise((resolve, reject) => {
    if (Number(req.headers['content-length'] ?? 0) > limit) {
      req.resume();
      return resolve('too-large');
    }
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) return void chunks.push(chunk);
      req.off('data', onData);
      req.resume();
      resolve('too-large');
    };
    req.on('data', onData);
    req.once('end', () => resolve(Buffer.concat(chunks)));
    req.once('error', reject);
  });
}

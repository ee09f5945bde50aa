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
import { textToSpeech, type TtsMode, type TtsRenders } from './routes/tts.js';
import { RenderCache, type RenderedClip, type RenderedStream } from './prerendered.js';
import type { ToolDeps } from './routes/deps.js';
import { textToDialogue } from './routes/dialogue.js';
import { deleteHistoryItem, getHistoryAudio, getHistoryItem, listHistory } from './routes/history.js';
import { sharedVoices } from './routes/library.js';
import { soundGeneration } from './routes/sound-generation.js';
import { parseMultipart, speechToText, type UploadForm } from './routes/speech-to-text.js';
import { createVoiceFromPreview, designVoice } from './routes/voice-design.js';
import { addVoice, audioIsolationStream, musicStream, speechToSpeech } from './routes/voice-lab.js';
import { TranscriptMemory, wordsFromSpans } from './memory.js';
import { HistoryStore, VoiceRegistry } from './state.js';
import { contentTypeOf } from './audio/formats.js';

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
  /** Largest speech-to-text upload (multipart body); larger ones get 413. Default 25 MiB. */
  readonly maxUploadBytes?: number;
  /** Generations kept for `/v1/history`. Default 100. */
  readonly historySize?: number;
  /** Idle keep-alive sockets are closed after this long. Default 5000 ms. */
  readonly idleTimeoutMs?: number;
  /**
   * Synthesise each distinct text-to-speech request (text, voice, format, speed, chunk size) once and replay
   * its bytes to later requests, paced as configured: for benchmarks, where a stand-in that synthesises
   * every request would spend more CPU than the server under test. The first request for a text waits for
   * its whole render. Default false: every request is synthesised, as tests of the real path need.
   */
  readonly prerendered?: boolean;
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
  const maxUploadBytes = options.maxUploadBytes ?? 25 * 1024 * 1024;
  const voices = new VoiceRegistry();
  const history = new HistoryStore(options.historySize ?? 100);
  const memory = new TranscriptMemory();
  const maxConcurrentRequests = options.maxConcurrentRequests ?? 10;
  const characterLimit = options.characterLimit ?? 500_000;
  let pacing = resolvePacing(DEFAULT_PACING, options.pacing);
  const faults = new FaultQueue();
  const requests: LoggedRequest[] = [];
  const inFlight = new Set<AbortController>();
  let usage = 0;
  let generating = 0;
  let baseUrl = '';
  const renders: TtsRenders | undefined = options.prerendered
    ? { stream: new RenderCache<RenderedStream>(), whole: new RenderCache<RenderedClip>() }
    : undefined;

  const catalog: CatalogDeps = {
    get baseUrl() {
      return baseUrl;
    },
    subscription: () => ({
      characterCount: usage,
      characterLimit,
      nextResetUnix: Math.floor(Date.now() / 1000) + 30 * 24 * 3600,
    }),
    ownVoices: () => voices.own,
    findVoice: (voiceId) => voices.find(voiceId),
  };
  const tools = (path: string): ToolDeps => ({
    synthesizer,
    pacing,
    baseUrl,
    voices,
    history,
    memory,
    usage: () => usage,
    bill: (credits) => void (usage += credits),
    takeByteFault: () => faults.takeByteFault(path),
  });

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

    const multipart = /^multipart\/form-data/i.test(req.headers['content-type'] ?? '');
    const limit = multipart ? maxUploadBytes : maxBodyBytes;
    const read = await readBody(req, limit);
    if (read === 'too-large') {
      res.setHeader('connection', 'close');
      return sendJson(
        res,
        413,
        detailError(
          'validation_error',
          'payload_too_large',
          `Request body larger than ${limit} bytes.`,
          requestId,
        ),
      );
    }
    let body: unknown;
    let form: UploadForm | undefined;
    if (multipart) {
      form = await parseMultipart(req.headers['content-type']!, read);
      body = form && {
        ...form.fields,
        ...(form.file
          ? { file: { name: form.file.name, type: form.file.type, bytes: form.file.bytes.length } }
          : {}),
        parts: form.files.map((file) => ({
          field: file.field,
          name: file.name,
          type: file.type,
          bytes: file.bytes.length,
        })),
      };
    } else if (read.length > 0) {
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
    await route(exchange, form);
  }

  /** Audio generation beyond TTS shares TTS's concurrency limit (429 `too_many_concurrent_requests`). */
  async function admitGeneration(exchange: Exchange, run: () => Promise<void>): Promise<void> {
    if (generating >= maxConcurrentRequests) {
      return sendJson(exchange.res, 429, defaultErrorBody(429, exchange.requestId));
    }
    generating++;
    try {
      await run();
    } catch (error) {
      if (exchange.signal.aborted) return;
      if (!exchange.res.headersSent) sendJson(exchange.res, 500, defaultErrorBody(500, exchange.requestId));
      else exchange.res.destroy(error instanceof Error ? error : undefined);
    } finally {
      generating--;
    }
  }

  async function route(exchange: Exchange, form: UploadForm | undefined): Promise<void> {
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
          ...(renders ? { renders } : {}),
          maxConcurrentRequests,
          concurrentRequests: () => generating,
          beginRequest: () => {
            generating++;
            return () => void generating--;
          },
          bill: (credits) => void (usage += credits),
          takeByteFault: () => faults.takeByteFault(path),
          findVoice: (voiceId) => voices.find(voiceId),
          spoken: (clip) => {
            const { words } = wordsFromSpans([{ alignment: clip.alignment, speaker: 'speaker_0' }]);
            const seconds = clip.alignment.character_end_times_seconds.at(-1) ?? 0;
            memory.remember(clip.audio, { text: clip.job.text, words, seconds, kind: 'speech' });
            history.add({
              historyItemId: clip.historyItemId,
              requestId: clip.requestId,
              voiceId: clip.job.voice.voiceId,
              voiceName: clip.job.voice.name,
              voiceCategory: clip.job.voice.category ?? 'premade',
              modelId: clip.job.model.modelId,
              text: clip.job.text,
              dateUnix: Math.floor(Date.now() / 1000),
              characterCountFrom: usage - clip.job.characterCost,
              characterCountTo: usage,
              contentType: contentTypeOf(clip.job.format),
              outputFormat: clip.job.format.id,
              settings: clip.settings,
              dialogue: null,
              audio: clip.audio,
            });
          },
        },
        decodeURIComponent(tts[1]!),
        mode,
      );
    }
    const voice = /^\/v1\/voices\/([^/]+)\/?$/.exec(path);
    const method = (name: string, handler: () => void | Promise<void>) =>
      req.method === name ? handler() : sendJson(res, 405, { detail: 'Method Not Allowed' });
    const get = (handler: () => void | Promise<void>) => method('GET', handler);
    const post = (handler: () => void | Promise<void>) => method('POST', handler);
    if (path.replace(/\/$/, '') === '/v1/voices/add')
      return post(() => addVoice(exchange, tools(path), form));
    const sts = /^\/v1\/speech-to-speech\/([^/]+)\/stream\/?$/.exec(path);
    if (sts) {
      const voiceId = decodeURIComponent(sts[1]!);
      return post(() =>
        admitGeneration(exchange, () => speechToSpeech(exchange, tools(path), form, voiceId)),
      );
    }
    if (voice) return get(() => getVoice(exchange, catalog, decodeURIComponent(voice[1]!)));
    const historyItem = /^\/v1\/history\/([^/]+)(\/audio)?\/?$/.exec(path);
    if (historyItem) {
      const id = decodeURIComponent(historyItem[1]!);
      if (historyItem[2]) return get(() => getHistoryAudio(exchange, tools(path), id));
      if (req.method === 'DELETE') return deleteHistoryItem(exchange, tools(path), id);
      return get(() => getHistoryItem(exchange, tools(path), id));
    }
    switch (path.replace(/\/$/, '')) {
      case '/v1/sound-generation':
        return post(() => admitGeneration(exchange, () => soundGeneration(exchange, tools(path))));
      case '/v1/audio-isolation/stream':
        return post(() => admitGeneration(exchange, () => audioIsolationStream(exchange, tools(path), form)));
      case '/v1/music/stream':
        return post(() => admitGeneration(exchange, () => musicStream(exchange, tools(path))));
      case '/v1/speech-to-text':
        return post(() => speechToText(exchange, tools(path), form));
      case '/v1/text-to-voice/design':
      case '/v1/text-to-voice/create-previews':
        return post(() => admitGeneration(exchange, () => designVoice(exchange, tools(path))));
      case '/v1/text-to-voice':
        return post(() => createVoiceFromPreview(exchange, tools(path)));
      case '/v1/shared-voices':
        return get(() => sharedVoices(exchange, tools(path)));
      case '/v1/text-to-dialogue':
        return post(() => admitGeneration(exchange, () => textToDialogue(exchange, tools(path), false)));
      case '/v1/text-to-dialogue/stream':
        return post(() => admitGeneration(exchange, () => textToDialogue(exchange, tools(path), true)));
      case '/v1/history':
        return get(() => listHistory(exchange, tools(path)));
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
        renders?.stream.close();
        renders?.whole.close();
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

import { connect, type Socket } from 'node:net';
import WebSocket from 'ws';
import { inspectHttp, inspectOutput, type Inspection } from './classify.js';
import { SPEECH_DEADLINE_MS } from './gen/common.js';
import { parseResponse, requestBytes } from './http-raw.js';
import { resolveTemplate, type TemplateContext, type WsInput, type WsRawInput } from './inputs.js';
import { rememberPort } from './ports.js';
import { resolveHeaders, runHttp, tag, where } from './run-http.js';
import { sleep } from './target.js';

/** A player session through `ws`: handshake, steps, and the checks that the server still answers. */
export async function runSession(
  input: WsInput,
  context: TemplateContext,
  inspection: Inspection,
): Promise<void> {
  const { tally } = inspection;
  const protocols = input.protocols.map((protocol) => resolveTemplate(protocol, context));
  let socket: WebSocket;
  try {
    socket = new WebSocket(`ws://127.0.0.1:${context.port}/ws`, protocols, {
      ...(input.origin === undefined ? {} : { origin: resolveTemplate(input.origin, context) }),
      handshakeTimeout: input.deadlineMs,
    });
  } catch {
    tally.status('ws refused by client library');
    return;
  }
  const messages: { type?: unknown; id?: unknown; code?: unknown }[] = [];
  let closed = false;
  const closedPromise = new Promise<void>((resolve) =>
    socket.on('close', () => {
      closed = true;
      resolve();
    }),
  );
  socket.on('message', (data, isBinary) => {
    if (isBinary) return;
    const text = (data as Buffer).toString();
    inspectOutput(inspection, text, 'a player message');
    try {
      const message = JSON.parse(text) as { type?: unknown; id?: unknown; code?: unknown };
      messages.push(message);
      if (message.type === 'speech.error' && message.code === 'internal') {
        tally.find('5xx', 'speech.error with code "internal" on a player', {
          response: text.slice(0, 300),
          ...where(inspection),
        });
      }
      if (typeof message.id === 'string') inspection.pool.add(message.id);
    } catch {
      tally.find('5xx', 'player received a frame that is not JSON', {
        response: text.slice(0, 300),
        ...where(inspection),
      });
    }
  });

  const opened = await new Promise<'open' | 'refused' | 'timeout' | 'error'>((resolve) => {
    socket.once('open', () => resolve('open'));
    socket.once('unexpected-response', (request, response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => {
        const body = Buffer.concat(chunks);
        const head = Object.entries(response.headers)
          .map(([name, value]) => `${name}: ${String(value)}`)
          .join('\r\n');
        const headers = Object.fromEntries(
          Object.entries(response.headers).map(([name, value]) => [name, String(value)]),
        );
        inspectHttp(
          inspection,
          { method: 'GET', path: '/ws', channel: 'ws' },
          {
            outcome: 'response',
            status: response.statusCode ?? 0,
            headers,
            body,
            raw: Buffer.concat([Buffer.from(`${head}\r\n\r\n`), body]),
          },
        );
        request.destroy();
        resolve('refused');
      });
    });
    socket.once('error', (error) => resolve(/timed out/.test(error.message) ? 'timeout' : 'error'));
  });
  socket.on('error', () => undefined);
  if (opened === 'timeout')
    tally.find('hang', 'WebSocket handshake got no answer within the deadline', where(inspection));
  if (opened !== 'open') {
    if (opened !== 'refused') tally.status(`ws ${opened}`);
    socket.terminate();
    return;
  }
  tally.status('101');
  rememberPort((socket as unknown as { _socket?: Socket })._socket?.localPort, tag(inspection).tag);

  const speeches: Promise<void>[] = [];
  for (const step of input.steps) {
    if (closed) break;
    switch (step.op) {
      case 'text':
        socket.send(step.data);
        break;
      case 'bytes-as-text':
        socket.send(step.data, { binary: false });
        break;
      case 'binary':
        socket.send(Buffer.alloc(step.size, 7), { binary: true });
        break;
      case 'speak': {
        const body = JSON.stringify({ text: step.text, ...(step.voice ? { voice: step.voice } : {}) });
        speeches.push(
          runHttp(
            {
              kind: 'http',
              channel: 'rest',
              label: 'player session speech',
              method: 'POST',
              path: '/api/v1/speak',
              headers: [
                ['Authorization', `Bearer {{key:${input.user ?? 'walter'}}}`],
                ['Content-Type', 'application/json'],
              ],
              body,
              deadlineMs: SPEECH_DEADLINE_MS,
            },
            context,
            inspection,
          ),
        );
        // Let the speech start so later steps (stop, played, an abrupt close) land while it streams.
        await sleep(30);
        break;
      }
      case 'played-last': {
        const last = [...messages].reverse().find((message) => message.type === 'speech.start');
        socket.send(
          JSON.stringify({ type: 'played', id: typeof last?.id === 'string' ? last.id : 'sp_none' }),
        );
        break;
      }
      case 'ping': {
        const before = messages.length;
        socket.send(JSON.stringify({ type: 'ping' }));
        const answered = await until(
          () => closed || messages.slice(before).some((m) => m.type === 'pong'),
          input.deadlineMs,
        );
        if (!answered) tally.find('hang', 'player ping got no pong within the deadline', where(inspection));
        break;
      }
      case 'wait':
        await sleep(step.ms);
        break;
      case 'close': {
        socket.close(step.code);
        const done = await Promise.race([
          closedPromise.then(() => true),
          sleep(input.deadlineMs).then(() => false),
        ]);
        if (!done)
          tally.find(
            'hang',
            'the server did not complete the closing handshake within the deadline',
            where(inspection),
          );
        break;
      }
      case 'terminate':
        socket.terminate();
        break;
    }
  }
  socket.terminate();
  await Promise.all(speeches);
}

async function until(condition: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) return false;
    await sleep(20);
  }
  return true;
}

/** A hand-written upgrade request; if the server switches protocols, raw frames follow. */
export function runRawHandshake(
  input: WsRawInput,
  context: TemplateContext,
  inspection: Inspection,
): Promise<void> {
  const head = requestBytes(context.port, {
    method: 'GET',
    path: resolveTemplate(input.path, context),
    headers: resolveHeaders(input.headers, context),
    deadlineMs: input.deadlineMs,
  });
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let done = false;
    let upgraded = false;
    const socket = connect({ host: '127.0.0.1', port: context.port });
    const finish = (outcome: 'response' | 'timeout' | 'reset') => {
      if (done) return;
      done = true;
      clearTimeout(deadline);
      socket.destroy();
      const raw = Buffer.concat(chunks);
      const parsed = parseResponse(raw);
      inspectHttp(
        inspection,
        { method: 'GET', path: input.path, channel: 'ws' },
        {
          outcome: parsed ? 'response' : outcome,
          status: parsed?.status ?? 0,
          headers: parsed?.headers ?? {},
          body: parsed?.body ?? Buffer.alloc(0),
          raw,
        },
      );
      resolve();
    };
    const deadline = setTimeout(() => finish('timeout'), input.deadlineMs);
    socket.on('connect', () => {
      rememberPort(socket.localPort, tag(inspection).tag);
      socket.write(head);
    });
    socket.on('data', (data: Buffer) => {
      chunks.push(data);
      const parsed = parseResponse(Buffer.concat(chunks));
      if (!parsed?.complete || upgraded) return;
      if (parsed.status !== 101) return finish('response');
      upgraded = true;
      for (const frame of input.frames) socket.write(frame);
      // Whatever the server answers to the frames (a close, a pong) is scanned too.
      setTimeout(() => finish('response'), 150);
    });
    socket.on('error', () => finish('reset'));
    socket.on('close', () => finish('reset'));
  });
}

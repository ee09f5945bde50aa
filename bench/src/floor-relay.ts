#!/usr/bin/env node
/**
 * The floor relay: the least any server can do to turn one HTTP call into audio at a user's players. One
 * upstream request to the streaming-with-timestamps endpoint, each NDJSON line decoded once, its audio sent
 * to that user's WebSockets; `{"type":"speech.end"}` after the last byte so clients know the stream ended.
 * No MCP, auth, queue, store, logging or backpressure. `npm run bench` runs every scenario against it and
 * against Earshot in the same run: on two shared cores it is the reference, not an absolute number.
 *
 *   node bench/dist/floor-relay.js --upstream http://127.0.0.1:8787 --key KEY [--port 0] [--format pcm_24000]
 *   POST /speak {"user","text","voice"} → 200 once the upstream stream has ended; GET /ws?user=NAME (players)
 */
import { Agent, createServer, request } from 'node:http';
import { parseArgs } from 'node:util';
import { WebSocketServer, type WebSocket } from 'ws';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    upstream: { type: 'string', default: 'http://127.0.0.1:8787' },
    key: { type: 'string', default: 'test-key' },
    // Earshot asks for this format today; the benchmark passes whatever Earshot asks for.
    format: { type: 'string', default: 'pcm_24000' },
  },
});
const players = new Map<string, Set<WebSocket>>();
// Idle connections dropped before the stand-in's 5 s keep-alive timeout: a request on a connection the other
// side is closing fails with ECONNRESET (seen in scenario a, one call every ~5 s).
const upstream = new Agent({ keepAlive: true, timeout: 4000 });
const END = JSON.stringify({ type: 'speech.end' });

const server = createServer((req, res) => {
  if (req.method !== 'POST' || req.url !== '/speak') return void res.writeHead(404).end();
  let body = '';
  req.setEncoding('utf8');
  req.on('data', (text: string) => (body += text));
  req.on('end', () => {
    const { user, text, voice } = JSON.parse(body) as { user: string; text: string; voice: string };
    const url = `${values.upstream}/v1/text-to-speech/${voice}/stream/with-timestamps?output_format=${values.format}`;
    const headers = { 'xi-api-key': values.key, 'content-type': 'application/json' };
    const call = request(url, { method: 'POST', agent: upstream, headers }, (stream) => {
      let partial = '';
      stream.setEncoding('utf8');
      stream.on('data', (text: string) => {
        const lines = (partial + text).split('\n');
        partial = lines.pop() ?? '';
        for (const line of lines) {
          const audio = Buffer.from((JSON.parse(line) as { audio_base64: string }).audio_base64, 'base64');
          for (const player of players.get(user) ?? []) player.send(audio);
        }
      });
      stream.on('end', () => {
        for (const player of players.get(user) ?? []) player.send(END);
        res.writeHead(stream.statusCode ?? 502).end();
      });
    });
    call.on('error', () => res.writeHead(502).end());
    // Earshot's default model (the stand-in paces every model alike).
    call.end(JSON.stringify({ text, model_id: 'eleven_flash_v2_5' }));
  });
});

// Idle client connections kept as long as Earshot keeps them (EARSHOT_KEEP_ALIVE_TIMEOUT_MS, 72 s), not Node's 5 s:
// the load generator's keep-alive call every few seconds otherwise meets a connection being closed (socket hang up).
server.keepAliveTimeout = 72_000;

new WebSocketServer({ server, path: '/ws' }).on('connection', (socket, req) => {
  const user = new URL(req.url ?? '/', 'http://127.0.0.1').searchParams.get('user') ?? '';
  const own = players.get(user) ?? new Set();
  players.set(user, own.add(socket));
  socket.on('close', () => own.delete(socket));
});

server.listen(Number(values.port), '127.0.0.1', () => {
  const address = server.address();
  if (address && typeof address === 'object') process.stdout.write(`http://127.0.0.1:${address.port}\n`);
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(0));

// Defects the chaos suite (testing/chaos) found, each pinned by a test of its own: client mistakes answered as
// JSON-RPC says, audio downloads that release their file when the client goes away, and an ElevenLabs stream
// that goes quiet.
import { readdir, readlink } from 'node:fs/promises';
import { request } from 'node:http';
import { join } from 'node:path';
import { startStandin, type Standin } from '@earshot/elevenlabs-standin';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ElevenLabsEngine } from '../src/engines/elevenlabs.js';
import { connectMcp } from './support/mcp.js';
import { connectPlayer } from './support/player.js';
import { startTestServer, type TestServer } from './support/server.js';

/** A premade voice the stand-in knows. */
const RACHEL = '21m00Tcm4TlvDq8ikWAM';

interface JsonRpcAnswer {
  readonly id: unknown;
  readonly error?: { code: number; message: string; data?: unknown };
  readonly result?: unknown;
}

/** Posts one JSON-RPC message to /mcp and reads the answer, whether JSON or one SSE event. */
async function rpc(server: TestServer, message: unknown): Promise<{ status: number; answer: JsonRpcAnswer }> {
  const response = await fetch(`${server.url}/mcp`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${server.keys.alice}`,
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      'mcp-protocol-version': '2025-06-18',
    },
    body: JSON.stringify(message),
  });
  const text = await response.text();
  const json = text.startsWith('{') ? text : (/^data: (.*)$/m.exec(text)?.[1] ?? 'null');
  return { status: response.status, answer: JSON.parse(json) as JsonRpcAnswer };
}

describe('MCP requests a client got wrong', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ users: ['alice'] });
  });
  afterAll(() => server.close());

  it.each([
    [
      'tools/call with a name that is not a string',
      { name: { nested: 'speak' }, arguments: {} },
      'tools/call',
    ],
    ['logging/setLevel with a number for a level', { level: 7 }, 'logging/setLevel'],
    [
      'initialize without capabilities',
      { protocolVersion: '2025-06-18', clientInfo: { name: 'x', version: '1' } },
      'initialize',
    ],
    ['resources/read of a blank URI', { uri: '' }, 'resources/read'],
  ])('%s: -32602 Invalid params with a short reason, not -32603', async (_name, params, method) => {
    const { status, answer } = await rpc(server, { jsonrpc: '2.0', id: 41, method, params });
    expect(status).toBe(200);
    expect(answer.id).toBe(41);
    expect(answer.error?.code).toBe(-32602);
    expect(answer.error?.message).toMatch(
      new RegExp(`^Invalid params: ${method.replace('/', '\\/')}: params`),
    );
    expect(answer.error?.message.length).toBeLessThan(300);
  });

  // Revision 2026-07-28 made a resources/read miss -32602 with the URI as its only data; the SDK answers every
  // revision so (2025 clients took -32002, which SDK v1 servers sent, and any -32602 alike).
  it('resources/read of a history item that does not exist: -32602 with the URI as its data', async () => {
    const uri = 'earshot://history/sp_doesnotexist';
    const { answer } = await rpc(server, {
      jsonrpc: '2.0',
      id: 7,
      method: 'resources/read',
      params: { uri },
    });
    expect(answer.error).toMatchObject({ code: -32602, data: { uri } });
    expect(answer.error?.message).toMatch(/No history item/);
  });

  it('still answers valid requests after all that', async () => {
    const client = await connectMcp(server.url, server.keys.alice);
    const { tools } = await client.listTools();
    expect(tools.map((tool) => tool.name)).toContain('speak');
    await client.close();
  });
});

/** This process's open file descriptors that point at stored audio (the test server runs in-process). */
async function openAudioFiles(dataDir: string): Promise<string[]> {
  const targets = await Promise.all(
    (await readdir('/proc/self/fd')).map((fd) => readlink(`/proc/self/fd/${fd}`).catch(() => '')),
  );
  return targets.filter((target) => target.startsWith(join(dataDir, 'audio')) && target.endsWith('.audio'));
}

describe('audio downloads', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ users: ['alice'] });
  });
  afterAll(() => server.close());

  it('release the audio file when the client goes away before the end', async () => {
    const speak = await fetch(`${server.url}/api/v1/speak`, {
      method: 'POST',
      headers: { authorization: `Bearer ${server.keys.alice}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        text: 'A clip long enough to be read from disk in more than one piece. '.repeat(6),
      }),
    });
    const { audioUrl } = (await speak.json()) as { audioUrl: string };
    expect(await openAudioFiles(server.dataDir)).toEqual([]);

    // Five clients that read the status line, then hang up mid-body.
    for (let i = 0; i < 5; i++) {
      await new Promise<void>((resolve, reject) => {
        const req = request(audioUrl, { headers: { authorization: `Bearer ${server.keys.alice}` } });
        req.on('response', (response) => {
          expect(response.statusCode).toBe(200);
          response.once('data', () => {
            req.destroy();
            resolve();
          });
        });
        req.on('error', reject);
        req.end();
      });
    }
    // The server notices each hang-up on its own schedule: poll until the files are closed, with a deadline.
    const deadline = Date.now() + 10_000;
    let open = await openAudioFiles(server.dataDir);
    while (open.length > 0 && Date.now() < deadline) {
      await new Promise((resolve) => setImmediate(resolve));
      open = await openAudioFiles(server.dataDir);
    }
    expect(open).toEqual([]);
  });
});

describe('an ElevenLabs stream that goes quiet', () => {
  let standin: Standin;
  let server: TestServer;
  const UPSTREAM_KEY = 'el-test-key-quiet';
  beforeAll(async () => {
    standin = await startStandin({ apiKeys: [UPSTREAM_KEY] });
    server = await startTestServer({
      users: ['alice'],
      engine: new ElevenLabsEngine({
        apiKey: UPSTREAM_KEY,
        baseUrl: standin.url,
        maxRetries: 0,
        // Long enough that "the next speech" never looks stalled on a loaded machine (a 500 ms limit failed a
        // full run on two cores), short enough that the stalled one ends soon.
        streamIdleTimeoutMs: 2000,
      }),
      env: { ELEVENLABS_API_KEY: UPSTREAM_KEY, ELEVENLABS_BASE_URL: standin.url },
    });
  });
  afterAll(async () => {
    await server.close();
    await standin.close();
  });

  it('is given up as upstream_interrupted, and the next speech plays', async () => {
    // Stalls for ten minutes after the first bytes: only the idle timeout can end this speech.
    standin.injectFault({ kind: 'stall', afterBytes: 1000, ms: 600_000, path: /text-to-speech/ });
    const player = await connectPlayer(server.url, server.keys.alice!);
    const client = await connectMcp(server.url, server.keys.alice);
    const stalled = await client.callTool({
      name: 'speak',
      arguments: { text: 'This one will stall after its first bytes and never finish.' },
    });
    expect(stalled.isError).toBe(true);
    const error = await player.waitFor('speech.error');
    expect(error.code).toBe('upstream_interrupted');
    expect(error.message).toMatch(/ElevenLabs sent nothing for/);

    const next = await client.callTool({
      name: 'speak',
      arguments: { text: 'And this one plays.' },
    });
    expect(next.isError).toBeFalsy();
    await player.waitFor('speech.end', (m) => m.id === (next.structuredContent as { id: string }).id);
    await Promise.all([client.close(), player.close()]);
  });

  it('is not given up while it keeps sending, however long it lasts', async () => {
    // About 20 kB of NDJSON in 1 kB chunks 100 ms apart (about two seconds) against a 1 s idle timeout: only a
    // timeout that each chunk re-arms lets it end normally. Ten times the gap, so a loaded machine (a full test
    // run on two cores) delaying one chunk does not look like a stall.
    standin.setPacing({
      firstByteLatencyMs: 0,
      realtimeFactor: Infinity,
      chunkBytes: 1000,
      chunkIntervalMs: 100,
    });
    const engine = new ElevenLabsEngine({
      apiKey: UPSTREAM_KEY,
      baseUrl: standin.url,
      maxRetries: 0,
      streamIdleTimeoutMs: 1000,
    });
    try {
      const stream = await engine.synthesize(
        { text: 'A speech long enough to arrive in many chunks, one after another.', voiceId: RACHEL },
        new AbortController().signal,
      );
      let bytes = 0;
      for await (const event of stream.events) if (event.type === 'audio') bytes += event.data.byteLength;
      expect(bytes).toBeGreaterThan(10_000);
    } finally {
      await engine.close();
      standin.setPacing({ chunkBytes: 4096, chunkIntervalMs: 0 });
    }
  });
});

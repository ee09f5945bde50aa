import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startStandin, type Standin } from '@earshot/elevenlabs-standin';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ElevenLabsEngine } from '../src/engines/elevenlabs.js';
import {
  connectMcp,
  connectMcpBridge,
  connectMcpOwnServer,
  MCP_CLIENT_KINDS,
  type McpTestClient,
  MODERN_REVISION,
} from './support/mcp.js';
import { freePort } from './support/cli.js';
import { connectPlayer } from './support/player.js';
import { startTestServer, type TestServer } from './support/server.js';

const KEY = 'stdio-toolset-key';

/**
 * Every tool, called the same way over Streamable HTTP, over stdio bridged (`earshot mcp` forwarding to the
 * server) and over stdio served in process (`earshot mcp` with its own server: `own`), against the ElevenLabs
 * stand-in: success, bad input and an upstream failure on each path, with a 2026-07-28 client (SDK v2) and a
 * 2025-11-25 one (SDK v1).
 */
describe.each(MCP_CLIENT_KINDS)('the whole toolset over Streamable HTTP and stdio (%s client)', (kind) => {
  let standin: Standin;
  let server: TestServer;
  const clients = {} as Record<'http' | 'stdio' | 'own', McpTestClient>;
  /** The server `earshot mcp` started for `own`: where its players connect, with its generated key. */
  let own: { url: string; dataDir: string };

  beforeAll(async () => {
    standin = await startStandin({ apiKeys: [KEY] });
    server = await startTestServer({
      engine: new ElevenLabsEngine({ apiKey: KEY, baseUrl: standin.url, maxRetries: 0 }),
    });
    clients.http = await connectMcp(server.url, server.keys.alice, kind);
    clients.stdio = await connectMcpBridge(server.url, server.keys.alice!, kind);
    const port = await freePort();
    own = { url: `http://127.0.0.1:${port}`, dataDir: await mkdtemp(join(tmpdir(), 'earshot-own-')) };
    clients.own = await connectMcpOwnServer(
      {
        PORT: String(port),
        EARSHOT_DATA_DIR: own.dataDir,
        ELEVENLABS_API_KEY: KEY,
        ELEVENLABS_BASE_URL: standin.url,
      },
      kind,
    );
  });
  afterAll(async () => {
    await Promise.all(Object.values(clients).map((client) => client.close()));
    await server.close();
    await standin.close();
    await rm(own.dataDir, { recursive: true, force: true });
  });

  for (const via of ['http', 'stdio', 'own'] as const) {
    it(`runs every tool successfully over ${via}`, async () => {
      const client = clients[via];
      expect(client.protocolVersion()).toBe(kind === 'modern' ? MODERN_REVISION : '2025-11-25');
      const call = async (name: string, args: Record<string, unknown> = {}) => {
        const result = await client.callTool({ name, arguments: args });
        expect(result.isError, `${name}: ${JSON.stringify(result.content)}`).toBeFalsy();
        return result.structuredContent as Record<string, unknown>;
      };
      const { tools } = await client.listTools();
      const called = new Set<string>();
      const track = async (name: string, args?: Record<string, unknown>) => {
        called.add(name);
        return call(name, args);
      };
      const spoken = await track('speak', { text: `Hello over ${via}.` });
      await track('speak_dialogue', {
        lines: [
          { voice: 'Rachel', text: `One ${via}.` },
          { voice: 'Adam', text: 'Two.' },
        ],
      });
      await track('stop_speaking');
      await track('replay', { id: spoken.id });
      const tts = await track('text_to_speech', { text: `A clip over ${via}.` });
      await track('text_to_sound_effects', { text: 'a chime', duration_seconds: 1, play: false });
      const transcript = await track('speech_to_text', { source: tts.resourceUri });
      expect(transcript.text).toBe(`A clip over ${via}.`);
      await track('list_voices', { search: 'rachel' });
      await track('search_voices', { gender: 'female' });
      await track('get_voice', { voice: 'Rachel' });
      await track('search_voice_library', { page_size: 2 });
      const design = await track('design_voice', {
        description: `A warm and friendly voice for the ${via} test, medium pace.`,
        play: false,
      });
      const previews = design.previews as { generated_voice_id: string }[];
      await track('save_designed_voice', {
        generated_voice_id: previews[0]!.generated_voice_id,
        name: `Designed ${via}`,
        description: `A warm and friendly voice for the ${via} test, medium pace.`,
      });
      const cloned = await track('voice_clone', { sources: [tts.resourceUri], name: `Cloned ${via}` });
      const revoiced = await track('speech_to_speech', { source: tts.resourceUri, voice: cloned.voice_id });
      expect(revoiced.voice).toMatchObject({ name: `Cloned ${via}` });
      await track('compose_music', { prompt: `a jingle for ${via}`, length_ms: 3000 });
      await track('isolate_audio', { source: tts.resourceUri });
      await track('list_models');
      await track('get_settings');
      await track('update_settings', { auto_play: true });
      await track('get_usage');
      const history = await track('list_history', { limit: 5 });
      await track('delete_history_item', { id: (history.items as { id: string }[])[0]!.id });
      expect([...called].sort()).toEqual(tools.map((tool) => tool.name).sort());
    });

    it(`reports bad input and upstream failures as tool errors over ${via}`, async () => {
      const client = clients[via];
      const call = async (name: string, args: Record<string, unknown>) =>
        await client.callTool({ name, arguments: args });
      expect((await call('speak', { text: '' })).isError).toBe(true);
      expect((await call('speak', { text: 'Hi', voice: 'Nobody At All' })).isError).toBe(true);
      expect((await call('get_voice', { voice: 'x' })).isError).toBe(true);
      // The test server's engine does not retry; the one `earshot mcp` starts retries once (a 500, a 429).
      const times = via === 'own' ? 2 : 1;
      standin.injectFault({ status: 500, path: /text-to-speech/, times });
      const failed = await call('speak', { text: `Fails upstream over ${via}.` });
      expect(failed.isError).toBe(true);
      expect(JSON.stringify(failed.content)).toMatch(/server error \(HTTP 500\)/);
      expect((await call('speak', { text: `Works again over ${via}.` })).isError).toBeFalsy();
      expect((await call('compose_music', { prompt: 'x', length_ms: 10 })).isError).toBe(true);
      expect((await call('voice_clone', { sources: [], name: 'X' })).isError).toBe(true);
      expect((await call('isolate_audio', { source: 'a/../b' })).isError).toBe(true);
      standin.injectFault({ status: 429, path: /music/, times });
      const busy = await call('compose_music', { prompt: `Busy over ${via}.`, length_ms: 3000 });
      expect(JSON.stringify(busy.content)).toMatch(/\[upstream_busy\]/);
    });
  }

  for (const via of ['stdio', 'own'] as const) {
    it(`forwards progress and cancellation over ${via}`, async () => {
      const client = clients[via];
      const player =
        via === 'own'
          ? await connectPlayer(own.url, (await readFile(join(own.dataDir, 'api-key'), 'utf8')).trim())
          : await connectPlayer(server.url, server.keys.alice!);
      await player.waitFor('hello');
      const progress: number[] = [];
      // Paced like the real API (audio at 4× real time, in small chunks): progress is for speech that takes a
      // while. Unpaced, the whole clip could arrive in one turn and its result overtake the notification.
      standin.setPacing({ realtimeFactor: 4, chunkBytes: 1024 });
      try {
        const said = await client.callTool(
          { name: 'speak', arguments: { text: `Progress over ${via}, ${kind} client.`, fresh: true } },
          { onprogress: (p) => progress.push(p.progress) },
        );
        expect(said.isError, JSON.stringify(said.content)).toBeFalsy();
      } finally {
        standin.setPacing({ realtimeFactor: Number.POSITIVE_INFINITY, chunkBytes: 4096 });
      }
      expect(progress.length).toBeGreaterThan(0);

      // The upstream stream stalls after its first chunks: the speech cannot end by itself while the test runs.
      standin.injectFault({ kind: 'stall', afterBytes: 8192, ms: 600_000, path: /text-to-speech/ });
      const stalled = `Cancelled over ${via}, ${kind} client.`;
      const abort = new AbortController();
      const call = client.callTool(
        { name: 'speak', arguments: { text: stalled, fresh: true } },
        { signal: abort.signal },
      );
      const start = await player.waitFor('speech.start', (m) => m.text === stalled);
      abort.abort();
      await expect(call).rejects.toThrow();
      await player.waitFor('speech.stopped', (m) => m.id === start.id);
      await player.close();
    });
  }
});

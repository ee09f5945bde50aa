import { mkdir, mkdtemp, readdir, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startStandin, type Standin } from '@earshot/elevenlabs-standin';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ElevenLabsEngine } from '../src/engines/elevenlabs.js';
import { connectMcp, connectMcpBridge, MCP_CLIENT_KINDS, type McpTestClient, textOf } from './support/mcp.js';
import { startTestServer, type TestServer } from './support/server.js';

const KEY = 'file-inputs-upstream-key';

/**
 * speech_to_text's `input_path` (EARSHOT_INPUT_DIRS) and `file_name` (the caller's own folder of
 * EARSHOT_OUTPUT_DIR), over Streamable HTTP with both SDKs and over stdio, against the stand-in.
 */
describe('file inputs and per-user output folders', () => {
  let standin: Standin;
  let server: TestServer;
  let root: string;
  let inputDir: string;
  let outputDir: string;
  const clients: Record<string, McpTestClient> = {};

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'earshot-files-'));
    inputDir = join(root, 'in');
    outputDir = join(root, 'out');
    await mkdir(inputDir);
    await mkdir(join(root, 'secret'));
    await mkdir(outputDir);
    standin = await startStandin({ apiKeys: [KEY] });
    server = await startTestServer({
      engine: new ElevenLabsEngine({ apiKey: KEY, baseUrl: standin.url, maxRetries: 0 }),
      env: { EARSHOT_INPUT_DIRS: inputDir, EARSHOT_OUTPUT_DIR: outputDir },
    });
    for (const kind of MCP_CLIENT_KINDS) {
      clients[`http ${kind}`] = await connectMcp(server.url, server.keys.alice, kind);
    }
    clients.stdio = await connectMcpBridge(server.url, server.keys.alice!);
    clients.bob = await connectMcp(server.url, server.keys.bob);
  });
  afterAll(async () => {
    await Promise.all(Object.values(clients).map((client) => client.close()));
    await server.close();
    await standin.close();
    await rm(root, { recursive: true, force: true });
  });

  /** Speech made as alice, saved as the stored Ogg Opus into the input folder (the stand-in knows its words). */
  async function spokenFile(text: string, name: string): Promise<string> {
    const made = await clients['http modern']!.callTool({ name: 'text_to_speech', arguments: { text } });
    const { id } = made.structuredContent as { id: string };
    const audio = await fetch(`${server.url}/api/v1/history/${id}/audio`, {
      headers: { authorization: `Bearer ${server.keys.alice}` },
    });
    const path = join(inputDir, name);
    await writeFile(path, Buffer.from(await audio.arrayBuffer()));
    return path;
  }

  for (const via of [...MCP_CLIENT_KINDS.map((kind) => `http ${kind}`), 'stdio']) {
    it(`transcribes an allowed file and refuses the others with a clear code (${via})`, async () => {
      const client = clients[via]!;
      const text = `Read from a file over ${via}.`;
      const path = await spokenFile(text, `${via.replace(' ', '-')}.ogg`);
      const call = (args: Record<string, unknown>) =>
        client.callTool({ name: 'speech_to_text', arguments: args });

      const heard = await call({ input_path: path });
      expect(heard.isError, textOf(heard)).toBeFalsy();
      expect((heard.structuredContent as { text: string }).text).toBe(text);
      const upload = standin.requests.findLast((request) => request.path === '/v1/speech-to-text');
      expect(upload).toBeDefined();

      await writeFile(join(root, 'secret', 'key.wav'), 'RIFF....WAVEnot really');
      await symlink(join(root, 'secret', 'key.wav'), join(inputDir, `link-${via.replace(' ', '-')}.wav`));
      await writeFile(join(inputDir, 'notes.wav'), 'plain text, not audio');
      const refusals: [Record<string, unknown>, string][] = [
        [{ input_path: join(root, 'secret', 'key.wav') }, 'input_outside_allowed'],
        [{ input_path: `${inputDir}/../secret/key.wav` }, 'input_outside_allowed'],
        [{ input_path: `link-${via.replace(' ', '-')}.wav` }, 'input_outside_allowed'],
        [{ input_path: join(inputDir, 'missing.wav') }, 'input_not_found'],
        [{ input_path: 'notes.wav' }, 'input_not_audio'],
        [{ input_path: path, source: 'earshot://history/sp_x' }, 'invalid_input'],
      ];
      const requestsBefore = standin.requests.length;
      for (const [args, code] of refusals) {
        const refused = await call(args);
        expect(refused.isError, JSON.stringify(args)).toBe(true);
        expect(textOf(refused)).toContain(`[${code}]`);
      }
      expect(standin.requests.length).toBe(requestsBefore);

      standin.injectFault({ status: 500, path: /speech-to-text/ });
      const failed = await call({ input_path: path });
      expect(failed.isError).toBe(true);
      expect(textOf(failed)).toMatch(/server error \(HTTP 500\)/);
    });
  }

  it('refuses a file over the 25 MB cap without uploading it', async () => {
    const big = join(inputDir, 'big.wav');
    const header = Buffer.from('RIFF\0\0\0\0WAVE');
    await writeFile(big, Buffer.concat([header, Buffer.alloc(25 * 1024 * 1024)]));
    const refused = await clients['http modern']!.callTool({
      name: 'speech_to_text',
      arguments: { input_path: big },
    });
    expect(textOf(refused)).toContain('[input_too_large]');
    await rm(big);
  });

  it('says how to turn file inputs on when EARSHOT_INPUT_DIRS is unset', async () => {
    const off = await startTestServer({
      engine: new ElevenLabsEngine({ apiKey: KEY, baseUrl: standin.url, maxRetries: 0 }),
    });
    const client = await connectMcp(off.url, off.keys.alice);
    const refused = await client.callTool({
      name: 'speech_to_text',
      arguments: { input_path: '/tmp/a.wav' },
    });
    expect(textOf(refused)).toMatch(/EARSHOT_INPUT_DIRS.*\[input_dirs_off\]/s);
    await client.close();
    await off.close();
  });

  it("writes each user's files into their own 0700 folder as 0600, and reads back only the caller's own", async () => {
    const legacy = join(outputDir, 'old.wav');
    await writeFile(legacy, 'written before per-user folders');
    const save = (client: McpTestClient, text: string) =>
      client.callTool({ name: 'text_to_speech', arguments: { text, output: 'file', file_name: 'same.wav' } });
    const alices = await save(clients['http legacy']!, 'Alice keeps this.');
    const bobs = await save(clients.bob!, 'Bob keeps this.');
    const alicePath = (alices.structuredContent as { path: string }).path;
    const bobPath = (bobs.structuredContent as { path: string }).path;
    expect(alicePath).toBe(join(outputDir, 'alice', 'same.wav'));
    expect(bobPath).toBe(join(outputDir, 'bob', 'same.wav'));
    for (const user of ['alice', 'bob']) {
      expect((await stat(join(outputDir, user))).mode & 0o777, user).toBe(0o700);
      expect((await stat(join(outputDir, user, 'same.wav'))).mode & 0o777, user).toBe(0o600);
    }
    expect((await readdir(outputDir)).sort()).toEqual(['alice', 'bob', 'old.wav']);

    const transcribe = (client: McpTestClient, fileName: string) =>
      client.callTool({ name: 'speech_to_text', arguments: { file_name: fileName } });
    const own = await transcribe(clients['http modern']!, 'same.wav');
    expect(own.isError, textOf(own)).toBeFalsy();
    const unique = await clients['http modern']!.callTool({
      name: 'text_to_speech',
      arguments: { text: 'Private to Alice.', output: 'file', file_name: 'alice-only.wav' },
    });
    expect(unique.isError, textOf(unique)).toBeFalsy();
    const theirs = await transcribe(clients.bob!, 'alice-only.wav');
    expect(textOf(theirs)).toContain('[not_found]');
    // Files from before per-user folders stay where they were, and file_name no longer reaches them.
    expect(textOf(await transcribe(clients.bob!, 'old.wav'))).toContain('[not_found]');
  });
});

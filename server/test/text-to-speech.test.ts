import { mkdtemp, readFile, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectMcp, textOf, MCP_CLIENT_KINDS, type McpTestClient } from './support/mcp.js';
import { connectPlayer } from './support/player.js';
import { startTestServer, type TestServer } from './support/server.js';

const call = async (client: McpTestClient, args: Record<string, unknown>) =>
  await client.callTool({ name: 'text_to_speech', arguments: args });

describe.each(MCP_CLIENT_KINDS)('text_to_speech and its output modes (%s client)', (kind) => {
  let server: TestServer;
  let outputDir: string;
  let client: McpTestClient;
  beforeAll(async () => {
    outputDir = await mkdtemp(join(tmpdir(), 'earshot-out-'));
    server = await startTestServer({ env: { EARSHOT_OUTPUT_DIR: outputDir } });
    client = await connectMcp(server.url, server.keys.alice, kind);
  });
  afterAll(async () => {
    await client.close();
    await server.close();
    await rm(outputDir, { recursive: true, force: true });
  });

  it('generates without playing and returns a resource link that reads back as WAV', async () => {
    const player = await connectPlayer(server.url, server.keys.alice!);
    await player.waitFor('hello');
    const result = await call(client, { text: 'A clip for the release notes.' });
    expect(result.isError).toBeFalsy();
    const { id, resourceUri, audioUrl } = result.structuredContent as {
      id: string;
      resourceUri: string;
      audioUrl: string;
    };
    const link = result.content.find((part) => part.type === 'resource_link');
    expect(link).toMatchObject({ uri: resourceUri, mimeType: 'audio/wav' });
    expect(resourceUri).toBe(`earshot://history/${id}`);
    expect(player.messages.map((m) => m.type)).toEqual(['hello']);

    const resource = await client.readResource({ uri: resourceUri });
    const content = resource.contents[0] as { blob: string; mimeType: string };
    expect(content.mimeType).toBe('audio/wav');
    const wav = Buffer.from(content.blob, 'base64');
    expect(wav.toString('ascii', 0, 4)).toBe('RIFF');
    // The REST download as WAV is the same file; as stored it is the Ogg Opus the WAV was decoded from.
    const headers = { authorization: `Bearer ${server.keys.alice}` };
    const http = await fetch(`${audioUrl}?format=wav`, { headers });
    expect(Buffer.from(await http.arrayBuffer()).equals(wav)).toBe(true);
    expect((await fetch(audioUrl, { headers })).headers.get('content-type')).toBe('audio/ogg; codecs=opus');

    const { resources } = await client.listResources();
    expect(resources.map((r) => r.uri)).toContain(resourceUri);
    // Another user cannot read it.
    const bob = await connectMcp(server.url, server.keys.bob, kind);
    await expect(bob.readResource({ uri: resourceUri })).rejects.toThrow();
    await bob.close();
    await player.close();
  });

  it('returns small audio inline as an embedded resource (never MCP audio content), and a link with the reason when it is too big; never base64 in text', async () => {
    const small = await call(client, { text: 'Short.', output: 'audio' });
    const { id, resourceUri } = small.structuredContent as { id: string; resourceUri: string };
    // docs/tools.md: MCP `audio` content made @ai-sdk/mcp 1.x refuse the whole result; embedded resources
    // are accepted by every revision and every client tried.
    expect(small.content.map((part) => part.type)).toEqual(['text', 'resource']);
    const embedded = small.content[1] as { resource: { uri: string; mimeType: string; blob: string } };
    expect(embedded.resource).toMatchObject({ uri: resourceUri, mimeType: 'audio/wav' });
    const wav = Buffer.from(embedded.resource.blob, 'base64');
    expect(wav.toString('ascii', 0, 4)).toBe('RIFF');
    // The same WAV resources/read gives for its URI.
    const read = (await client.readResource({ uri: resourceUri })).contents[0] as { blob: string };
    expect(Buffer.from(read.blob, 'base64').equals(wav)).toBe(true);
    expect(textOf(small)).toContain(`embedded resource earshot://history/${id}`);
    expect(textOf(small)).not.toMatch(/[A-Za-z0-9+/]{200}/);

    const long = Array.from(
      { length: 12 },
      (_, i) => `This is line ${i + 1} of a rather long announcement.`,
    ).join(' ');
    const big = await call(client, { text: long, output: 'audio' });
    expect(big.content.some((part) => part.type === 'resource' || part.type === 'audio')).toBe(false);
    expect(big.content.some((part) => part.type === 'resource_link')).toBe(true);
    expect(textOf(big)).toMatch(/over the 512 KB inline limit/);
  });

  it("writes files only inside the caller's folder of EARSHOT_OUTPUT_DIR, refusing traversal, existing files and symlinks", async () => {
    const written = await call(client, { text: 'Saved to disk.', output: 'file', file_name: 'note.wav' });
    expect(written.isError).toBeFalsy();
    const path = (written.structuredContent as { path: string }).path;
    expect(path).toBe(join(outputDir, 'alice', 'note.wav'));
    expect((await readFile(path)).toString('ascii', 0, 4)).toBe('RIFF');

    for (const name of ['../escape.wav', '/tmp/abs.wav', 'sub/dir.wav', '..wav', 'note.mp3', '.hidden.wav']) {
      const refused = await call(client, { text: 'No.', output: 'file', file_name: name });
      expect(refused.isError, name).toBe(true);
    }
    const again = await call(client, { text: 'Again.', output: 'file', file_name: 'note.wav' });
    expect(textOf(again)).toMatch(/already exists/);

    const target = join(outputDir, '..', `earshot-victim-${Date.now()}.txt`);
    await writeFile(target, 'keep me');
    await symlink(target, join(outputDir, 'alice', 'planted.wav'));
    const planted = await call(client, { text: 'Via a link.', output: 'file', file_name: 'planted.wav' });
    expect(planted.isError).toBe(true);
    expect(await readFile(target, 'utf8')).toBe('keep me');
    await rm(target);
    expect((await readdir(join(outputDir, 'alice'))).sort()).toEqual(['note.wav', 'planted.wav']);
  });

  it('reuses identical audio for free, and refuses file output when no folder is configured', async () => {
    const first = await call(client, { text: 'Same words twice.' });
    const second = await call(client, { text: 'Same words twice.' });
    expect(second.structuredContent).toMatchObject({
      cached: true,
      id: (first.structuredContent as { id: string }).id,
    });
    const other = await startTestServer();
    const otherClient = await connectMcp(other.url, other.keys.alice, kind);
    const refused = await call(otherClient, { text: 'Nowhere to go.', output: 'file' });
    expect(refused.isError).toBe(true);
    expect(textOf(refused)).toMatch(/EARSHOT_OUTPUT_DIR/);
    await otherClient.close();
    await other.close();
  });
});

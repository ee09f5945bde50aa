import type { ToolMessage } from '@langchain/core/messages';
import { MultiServerMCPClient } from '@langchain/mcp-adapters';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectMcp } from './support/mcp.js';
import { connectPlayer } from './support/player.js';
import { startTestServer, type TestServer } from './support/server.js';
import {
  connectThirdParty,
  THIRD_PARTY_CLIENTS,
  type ThirdPartyClient,
  type ThirdPartyClientName,
} from './support/third-party-clients.js';

/**
 * The revision each client speaks to Earshot, as its tools/call requests name it (MCP-Protocol-Version).
 * docs/clients.md ("Tested clients") shows the same.
 */
const REVISIONS: Record<ThirdPartyClientName, string> = {
  'mcp-remote': '2025-11-25',
  '@ai-sdk/mcp': '2026-07-28',
  '@ai-sdk/mcp@1': '2025-11-25',
  langchain: '2025-11-25',
  mastra: '2026-07-28',
};

/**
 * The MCP clients people build agents with, none written here, against a real Earshot (offline voice) on
 * loopback with a bearer key: docs/clients.md ("Tested clients") records what each one shows.
 */
describe.each(THIRD_PARTY_CLIENTS)('third-party MCP client %s against Earshot', (name) => {
  let server: TestServer;
  let client: ThirdPartyClient;
  const revisions: string[] = [];
  beforeAll(async () => {
    server = await startTestServer();
    server.running.app.server.on('request', (request) => {
      const revision = request.headers['mcp-protocol-version'];
      if (typeof revision === 'string') revisions.push(revision);
    });
    client = await connectThirdParty(name, server.url, server.keys.alice!);
  });
  afterAll(async () => {
    await client?.close();
    await server?.close();
  });

  it('offers every tool tools/list gives, speaking the revision the table says', async () => {
    const official = await connectMcp(server.url, server.keys.alice);
    const listed = (await official.listTools()).tools.map((tool) => tool.name).sort();
    await official.close();
    expect(listed.length).toBeGreaterThan(0);
    revisions.length = 0;
    expect((await client.toolNames()).sort()).toEqual(listed);
    await client.call('list_models', {});
    expect(new Set(revisions)).toEqual(new Set([REVISIONS[name]]));
  });

  // What the model reads need not start with Earshot's text: LangChain hands it a JSON string of the text
  // block and structuredContent.
  it('shows the model that nobody heard a speech and what to do, and says so in structuredContent too', async () => {
    const spoken = await client.call('speak', { text: 'Nobody is listening yet.' });
    expect(spoken.failed).toBe(false);
    expect(spoken.modelText).toMatch(
      /Nobody heard it: no Earshot player is open\. Ask the user to open http/,
    );
    // Clients that hand the application structuredContent alone (Mastra's execute) keep the guidance.
    expect(spoken.structured).toMatchObject({ playersReached: 0, playersListening: 0 });
    expect(spoken.structured?.message).toMatch(/^Nobody heard it: no Earshot player is open\./);

    const player = await connectPlayer(server.url, server.keys.alice!, { audio: 'on' });
    const heard = await client.call('speak', { text: 'Now someone is listening.' });
    expect(heard.modelText).toMatch(/Spoke 25 characters as \w+ to 1 listening player/);
    expect(heard.structured).toMatchObject({ playersListening: 1 });
    expect(heard.structured?.message).toMatch(/^Spoke 25 characters/);
    await player.close();
  });

  it('takes text_to_speech with output "audio": the WAV inline as an embedded resource the app can read', async () => {
    const generated = await client.call('text_to_speech', { text: 'Inline audio, please.', output: 'audio' });
    expect(generated.failed, generated.modelText).toBe(false);
    expect(generated.modelText).toMatch(/Generated [\d.]+ s as \w+ .*Audio attached/);
    const { id, audioUrl } = generated.structured as { id: string; audioUrl: string };
    expect(generated.inlineAudio).toMatchObject({ uri: `earshot://history/${id}`, mimeType: 'audio/wav' });
    // The same bytes the HTTP link serves as WAV.
    const http = await fetch(`${audioUrl}?format=wav`, {
      headers: { authorization: `Bearer ${server.keys.alice}` },
    });
    expect(generated.inlineAudio?.bytes.toString('ascii', 0, 4)).toBe('RIFF');
    expect(generated.inlineAudio?.bytes.equals(Buffer.from(await http.arrayBuffer()))).toBe(true);
  });

  it('gives the model the link with output "link"', async () => {
    const linked = await client.call('text_to_speech', { text: 'A link, please.', output: 'link' });
    expect(linked.failed).toBe(false);
    const { audioUrl } = linked.structured as { audioUrl: string };
    expect(linked.modelText).toContain(`Audio: ${audioUrl}`);
    expect(linked.inlineAudio).toBeUndefined();
  });

  it('shows the model an error with what to do and its code', async () => {
    const refused = await client.call('speak', { text: 'Hello.', voice: 'Nobody-at-all' });
    expect(refused.failed).toBe(true);
    expect(refused.modelText).toMatch(/No voice is called "Nobody-at-all"\. Closest: .*\[unknown_voice\]/);
  });
});

describe('LangChain told to hand embedded resources to the model', () => {
  it('gives the model the inline WAV as a file block (outputHandling {resource: "content"})', async () => {
    const server = await startTestServer();
    const client = new MultiServerMCPClient({
      mcpServers: {
        earshot: {
          transport: 'http',
          url: `${server.url}/mcp`,
          headers: { Authorization: `Bearer ${server.keys.alice}` },
        },
      },
      outputHandling: { resource: 'content' },
    });
    try {
      const tool = (await client.getTools()).find((candidate) => candidate.name === 'text_to_speech');
      const message = (await tool?.invoke({
        type: 'tool_call',
        id: 'call-1',
        name: 'text_to_speech',
        args: { text: 'For the model itself.', output: 'audio' },
      })) as ToolMessage;
      const blocks = message.content as {
        type: string;
        source_type?: string;
        mime_type?: string;
        data?: string;
      }[];
      const file = blocks.find((block) => block.type === 'file');
      expect(file).toMatchObject({ source_type: 'base64', mime_type: 'audio/wav' });
      expect(Buffer.from(file?.data ?? '', 'base64').toString('ascii', 0, 4)).toBe('RIFF');
    } finally {
      await client.close();
      await server.close();
    }
  });
});

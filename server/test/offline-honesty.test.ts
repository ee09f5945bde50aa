import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectMcp, connectMcpBridge, MCP_CLIENT_KINDS, type McpTestClient, textOf } from './support/mcp.js';
import { startTestServer, type TestServer } from './support/server.js';

const ELEVENLABS_ONLY = [
  'compose_music',
  'speech_to_speech',
  'voice_clone',
  'design_voice',
  'save_designed_voice',
  'search_voice_library',
  'speech_to_text',
  'text_to_sound_effects',
];

/**
 * On the offline engine, tools/list offers only what works and says nothing of ElevenLabs models; and a schema
 * violation comes back as an `[invalid_input]` tool result, like every other error, on SDK v1 and v2 clients,
 * over HTTP and stdio.
 */
describe('offline honesty and schema errors', () => {
  let server: TestServer;
  const clients: Record<string, McpTestClient> = {};
  beforeAll(async () => {
    server = await startTestServer({ env: { EARSHOT_MAX_TEXT_LENGTH: '50' } });
    for (const kind of MCP_CLIENT_KINDS)
      clients[`http ${kind}`] = await connectMcp(server.url, server.keys.alice, kind);
    clients.stdio = await connectMcpBridge(server.url, server.keys.alice!);
  });
  afterAll(async () => {
    await Promise.all(Object.values(clients).map((client) => client.close()));
    await server.close();
  });

  it('lists no ElevenLabs-only tool offline, and no schema or description names an ElevenLabs model', async () => {
    const { tools } = await clients['http modern']!.listTools();
    const names = tools.map((tool) => tool.name);
    for (const name of ELEVENLABS_ONLY) expect(names).not.toContain(name);
    const listing = JSON.stringify(tools);
    expect(listing).not.toMatch(/eleven_|Flash|Turbo|Multilingual/);
    const speak = tools.find((tool) => tool.name === 'speak')!;
    const model = (speak.inputSchema.properties as Record<string, { description?: string }>).model;
    expect(model?.description).toContain('"flite"');
    expect(speak.description).toMatch(/Free: the offline voice spends no credits/);
  });

  for (const via of [...MCP_CLIENT_KINDS.map((kind) => `http ${kind}`), 'stdio']) {
    it(`answers a schema violation with an [invalid_input] result that names the argument (${via})`, async () => {
      const client = clients[via]!;
      const call = (name: string, args: Record<string, unknown>) =>
        client.callTool({ name, arguments: args });
      const long = await call('speak', { text: 'x'.repeat(51) });
      expect(long.isError).toBe(true);
      expect(textOf(long)).toMatch(
        /^Invalid arguments: text: The text has 51 characters; .* \[text_too_long\]$/,
      );
      const wrongType = await call('speak', { text: 'Hi.', voice: 5 });
      expect(textOf(wrongType)).toMatch(/^Invalid arguments: voice: .*\. \[invalid_input\]$/);
      const missing = await call('text_to_speech', {});
      expect(textOf(missing)).toMatch(/^Invalid arguments: text: .*\[invalid_input\]$/);
      const nested = await call('speak_dialogue', { lines: [{ voice: 'robert' }] });
      expect(textOf(nested)).toMatch(/lines\.0\.text: .*\[invalid_input\]$/);
      const language = await call('speak', { text: 'Hallo.', language: 'de' });
      expect(textOf(language)).toMatch(/English only.*\[language_unsupported\]$/);
      const said = await call('speak', { text: 'Still fine.', language: 'EN' });
      expect(said.isError, textOf(said)).toBeFalsy();
    });
  }
});

// Every string an agent or a script can send is capped, and no error quotes more than a short excerpt of it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStandin } from '@earshot/elevenlabs-standin';
import { ElevenLabsEngine } from '../src/engines/elevenlabs.js';
import { connectMcp, textOf, type McpTestClient } from './support/mcp.js';
import { startTestServer, type TestServer } from './support/server.js';

const HUGE = 500_000;
const UPSTREAM_KEY = 'input-limits-upstream-key';
/** The most of one repeated character an error may quote back. */
const MAX_QUOTED = 120;

type JsonSchema = {
  type?: string | string[];
  enum?: unknown[];
  const?: unknown;
  maxLength?: number;
  maxItems?: number;
  maxProperties?: number;
  properties?: Record<string, JsonSchema>;
  items?: JsonSchema | JsonSchema[];
  additionalProperties?: boolean | JsonSchema;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  allOf?: JsonSchema[];
};

/** Every string without maxLength and array without maxItems in a JSON schema, by path. */
function uncapped(schema: JsonSchema, path: string): string[] {
  const types = Array.isArray(schema.type) ? schema.type : schema.type ? [schema.type] : [];
  const problems: string[] = [];
  const fixed = schema.enum !== undefined || schema.const !== undefined;
  if (types.includes('string') && !fixed && schema.maxLength === undefined) problems.push(`${path}: string`);
  if (types.includes('array') && schema.maxItems === undefined) problems.push(`${path}: array`);
  for (const [name, property] of Object.entries(schema.properties ?? {}))
    problems.push(...uncapped(property, `${path}.${name}`));
  const items = Array.isArray(schema.items) ? schema.items : schema.items ? [schema.items] : [];
  for (const item of items) problems.push(...uncapped(item, `${path}[]`));
  if (typeof schema.additionalProperties === 'object' && schema.maxProperties === undefined) {
    // A record: its values are capped one by one, but nothing bounds how many keys it holds.
    problems.push(`${path}: record`);
  }
  for (const branch of [...(schema.anyOf ?? []), ...(schema.oneOf ?? []), ...(schema.allOf ?? [])])
    problems.push(...uncapped(branch, path));
  return problems;
}

function longestRun(text: string, char: string): number {
  return Math.max(0, ...[...text.matchAll(new RegExp(`${char}+`, 'g'))].map((match) => match[0].length));
}

describe('input limits', () => {
  let server: TestServer;
  let client: McpTestClient;
  let headers: Record<string, string>;
  beforeAll(async () => {
    server = await startTestServer();
    client = await connectMcp(server.url, server.keys.alice);
    headers = { authorization: `Bearer ${server.keys.alice}`, 'content-type': 'application/json' };
  });
  afterAll(async () => {
    await client.close();
    await server.close();
  });

  it('caps every string and array in every tool input schema, offline and with ElevenLabs', async () => {
    // The ElevenLabs-only tools are listed only with ElevenLabs (the stand-in here).
    const standin = await startStandin({ apiKeys: [UPSTREAM_KEY] });
    const cloud = await startTestServer({
      engine: new ElevenLabsEngine({ apiKey: UPSTREAM_KEY, baseUrl: standin.url, maxRetries: 0 }),
    });
    const cloudClient = await connectMcp(cloud.url, cloud.keys.alice);
    try {
      const offline = (await client.listTools()).tools;
      const all = (await cloudClient.listTools()).tools;
      expect(offline.length).toBeGreaterThan(10);
      expect(all.length).toBeGreaterThan(offline.length);
      const problems = [...offline, ...all].flatMap((tool) =>
        uncapped(tool.inputSchema as JsonSchema, tool.name),
      );
      expect(problems).toEqual([]);
    } finally {
      await cloudClient.close();
      await cloud.close();
      await standin.close();
    }
  });

  it('caps text at the configured maximum', async () => {
    const { tools } = await client.listTools();
    const speak = tools.find((tool) => tool.name === 'speak')!.inputSchema as JsonSchema;
    expect(speak.properties?.text?.maxLength).toBe(5000); // EARSHOT_MAX_TEXT_LENGTH by default
  });

  it('refuses a 500 KB voice with a short, clear error that does not quote it', async () => {
    for (const [name, args] of [
      ['speak', { text: 'Hello.', voice: 'v'.repeat(HUGE) }],
      ['text_to_speech', { text: 'Hello.', voice: 'v'.repeat(HUGE) }],
      ['speak_dialogue', { lines: [{ voice: 'v'.repeat(HUGE), text: 'Hi.' }] }],
      ['get_voice', { voice: 'v'.repeat(HUGE) }],
      ['update_settings', { default_voice: 'v'.repeat(HUGE) }],
    ] as const) {
      const result = await client.callTool({ name, arguments: args });
      expect(result.isError, name).toBe(true);
      const text = textOf(result);
      expect(text, name).toMatch(/voice/);
      expect(text, name).toMatch(/100/);
      expect(longestRun(text, 'v'), name).toBeLessThan(MAX_QUOTED);
      expect(text.length, name).toBeLessThan(1000);
    }
  });

  it('refuses text over the configured maximum before any work, saying how to fix it', async () => {
    const result = await client.callTool({
      name: 'speak',
      arguments: { text: 't'.repeat(HUGE) },
    });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toMatch(/The text has 500000 characters; Earshot takes at most 5000 per call/);
    expect(longestRun(textOf(result), 't')).toBeLessThan(MAX_QUOTED);
  });

  it('answers REST with short errors whatever the input', async () => {
    const voice = await fetch(`${server.url}/api/v1/speak`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ text: 'Hello.', voice: 'v'.repeat(400_000) }),
    });
    expect(voice.status).toBe(400);
    const voiceBody = await voice.text();
    expect(voiceBody).toMatch(/voice/);
    expect(longestRun(voiceBody, 'v')).toBeLessThan(MAX_QUOTED);

    const text = await fetch(`${server.url}/api/v1/speak`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ text: 't'.repeat(6000) }),
    });
    expect(text.status).toBe(400);
    const textBody = (await text.json()) as { error: { code: string; message: string } };
    expect(textBody.error.code).toBe('text_too_long');
    expect(textBody.error.message).toMatch(/text: 6000 characters, but Earshot takes at most 5000 per call/);

    // An unknown key is named in the error: a 400 KB one is cut to an excerpt.
    const key = await fetch(`${server.url}/api/v1/speak`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ text: 'Hello.', ['k'.repeat(400_000)]: 1 }),
    });
    expect(key.status).toBe(400);
    expect(longestRun(await key.text(), 'k')).toBeLessThan(MAX_QUOTED * 3);

    const settings = await fetch(`${server.url}/api/v1/settings`, {
      method: 'PUT',
      headers,
      body: JSON.stringify({ defaultVoice: 'v'.repeat(400_000) }),
    });
    expect(settings.status).toBe(400);
    expect(longestRun(await settings.text(), 'v')).toBeLessThan(MAX_QUOTED);

    const route = await fetch(`${server.url}/api/v1/${'r'.repeat(8000)}`, {
      method: 'POST',
      headers: { authorization: headers.authorization! },
    });
    expect(route.status).toBe(404);
    expect(longestRun(await route.text(), 'r')).toBeLessThan(MAX_QUOTED);
  });

  it('keeps MCP protocol errors short whatever names they quote', async () => {
    for (const body of [
      { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'n'.repeat(HUGE), arguments: {} } },
      { jsonrpc: '2.0', id: 1, method: 'resources/read', params: { uri: `earshot://${'n'.repeat(HUGE)}` } },
      { jsonrpc: '2.0', id: 1, method: 'n'.repeat(HUGE) },
      { jsonrpc: '2.0', id: 'n'.repeat(HUGE), method: 'tools/list' },
      {
        jsonrpc: '2.0',
        id: 1,
        method: 'tools/call',
        params: { name: 'get_usage', arguments: {}, _meta: { progressToken: 'n'.repeat(HUGE) } },
      },
    ]) {
      const response = await fetch(`${server.url}/mcp`, {
        method: 'POST',
        headers: { ...headers, accept: 'application/json, text/event-stream' },
        body: JSON.stringify(body),
      });
      const text = await response.text();
      expect(response.status).toBeLessThan(500);
      expect(longestRun(text, 'n'), text.slice(0, 200)).toBeLessThan(MAX_QUOTED);
    }
  });
});

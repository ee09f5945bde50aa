import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectMcp, textOf, MCP_CLIENT_KINDS, type McpTestClient } from './support/mcp.js';
import { startTestServer, type TestServer } from './support/server.js';

describe.each(MCP_CLIENT_KINDS)('search_voices and get_voice (%s client)', (kind) => {
  let server: TestServer;
  let client: McpTestClient;
  const call = async (name: string, args: Record<string, unknown>) =>
    await client.callTool({ name, arguments: args });
  beforeAll(async () => {
    server = await startTestServer();
    client = await connectMcp(server.url, server.keys.alice, kind);
  });
  afterAll(async () => {
    await client.close();
    await server.close();
  });

  it('filters by label and pages through the results', async () => {
    const first = await call('search_voices', { gender: 'male', page_size: 2 });
    const page1 = first.structuredContent as {
      voices: { name: string }[];
      total: number;
      next_page_token: string | null;
    };
    expect(page1.total).toBe(3);
    expect(page1.voices).toHaveLength(2);
    expect(page1.next_page_token).toBe('2');
    const second = await call('search_voices', {
      gender: 'male',
      page_size: 2,
      page_token: page1.next_page_token,
    });
    const page2 = second.structuredContent as { voices: { name: string }[]; next_page_token: string | null };
    expect(page2.voices).toHaveLength(1);
    expect(page2.next_page_token).toBeNull();
    expect([...page1.voices, ...page2.voices].map((v) => v.name).sort()).toEqual(['Alan', 'Kevin', 'Robert']);

    const scottish = await call('search_voices', { accent: 'scottish' });
    expect((scottish.structuredContent as { voices: { id: string }[] }).voices.map((v) => v.id)).toEqual([
      'awb',
    ]);
    const none = await call('search_voices', { search: 'klingon' });
    expect(textOf(none)).toMatch(/No voice matches/);
    const badToken = await call('search_voices', { page_token: 'abc' });
    expect(badToken.isError).toBe(true);
  });

  it('gets one voice by name or id, and suggests names for a typo', async () => {
    const byName = await call('get_voice', { voice: 'kevin' });
    expect(byName.structuredContent).toMatchObject({
      id: 'kal16',
      name: 'Kevin',
      labels: { gender: 'male' },
    });
    const byId = await call('get_voice', { voice: 'slt' });
    expect((byId.structuredContent as { name: string }).name).toBe('Sally');
    const typo = await call('get_voice', { voice: 'Robret' });
    expect(typo.isError).toBe(true);
    expect(textOf(typo)).toMatch(/Closest: "Robert"/);
  });
});

describe.each(MCP_CLIENT_KINDS)('list_voices search (%s client)', (kind) => {
  it('matches word starts, so "male" does not find female voices', async () => {
    const server = await startTestServer();
    const client = await connectMcp(server.url, server.keys.alice, kind);
    const result = await client.callTool({
      name: 'list_voices',
      arguments: { search: 'male' },
    });
    expect(
      (result.structuredContent as { voices: { name: string }[] }).voices.map((v) => v.name).sort(),
    ).toEqual(['Alan', 'Kevin', 'Robert']);
    await client.close();
    await server.close();
  });
});

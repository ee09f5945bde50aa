import { Client } from '@modelcontextprotocol/client';
import { InMemoryTransport, McpServer } from '@modelcontextprotocol/server';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ToolSet, withJsonSchemaOnce, type EngineKind } from './tool-set.js';

describe('withJsonSchemaOnce', () => {
  it('converts to JSON Schema once per target, hands back the same frozen object, and validates as zod does', async () => {
    const schema = z.object({ text: z.string().max(5) });
    let conversions = 0;
    const convert = schema['~standard'].jsonSchema.input;
    const counted = {
      '~standard': {
        ...schema['~standard'],
        jsonSchema: {
          input: (options: Parameters<typeof convert>[0]) => {
            conversions++;
            return convert(options);
          },
          output: schema['~standard'].jsonSchema.output,
        },
      },
    };
    const once = withJsonSchemaOnce(counted);
    const first = once['~standard'].jsonSchema.input({ target: 'draft-2020-12' });
    for (let i = 0; i < 5; i++)
      expect(once['~standard'].jsonSchema.input({ target: 'draft-2020-12' })).toBe(first);
    expect(conversions).toBe(1);
    once['~standard'].jsonSchema.input({ target: 'draft-07' });
    expect(conversions).toBe(2);
    expect(Object.isFrozen(first)).toBe(true);
    expect(Object.isFrozen((first as { properties: object }).properties)).toBe(true);
    expect(await once['~standard'].validate({ text: 'hi' })).toEqual({ value: { text: 'hi' } });
    const refused = await once['~standard'].validate({ text: 'too long' });
    expect(refused.issues?.[0]?.path).toEqual(['text']);
  });
});

describe('ToolSet', () => {
  function toolSet(engine: EngineKind = 'elevenlabs') {
    const tools = new ToolSet({ engine });
    for (const name of ['first', 'second']) {
      tools.define(
        name,
        {
          title: name,
          description: `The ${name} tool.`,
          inputSchema: { text: z.string().max(10) },
          outputSchema: { said: z.string(), by: z.string() },
          annotations: { readOnlyHint: true },
          _meta: { 'example.com/tool': name },
        },
        async (args, call) => ({
          content: [{ type: 'text', text: `${args.text}\nA second line.` }],
          structuredContent: { said: args.text, by: call.user },
        }),
      );
    }
    tools.define(
      'cloud_only',
      {
        requires: 'elevenlabs',
        title: 'cloud',
        description: 'Needs ElevenLabs.',
        inputSchema: {},
        annotations: { openWorldHint: true },
      },
      async () => ({ content: [{ type: 'text', text: 'called' }] }),
    );
    return tools;
  }

  async function connect(tools: ToolSet, only?: string) {
    const server = new McpServer({ name: 't', version: '1' }, { capabilities: { tools: {} } });
    tools.installOn(server, 'alice', 'legacy', only);
    const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
    await server.connect(serverSide);
    const client = new Client({ name: 't', version: '1' });
    await client.connect(clientSide);
    return client;
  }

  it('serves the same definitions to every server it is installed on, calling handlers for that server’s user', async () => {
    const tools = toolSet();
    expect(() =>
      tools.define('first', { title: 'x', description: 'x', inputSchema: {}, annotations: {} }, async () => ({
        content: [],
      })),
    ).toThrow(/defined twice/);
    for (let i = 0; i < 2; i++) {
      const client = await connect(tools);
      const { tools: listed } = await client.listTools();
      expect(listed.map((tool) => tool.name)).toEqual(['first', 'second', 'cloud_only']);
      expect(listed[0]?.inputSchema).toMatchObject({
        properties: { text: { type: 'string', maxLength: 10 } },
      });
      const result = await client.callTool({ name: 'second', arguments: { text: 'hello' } });
      // The text's first line leads structuredContent as `message`, and every outputSchema declares it.
      expect(result.structuredContent).toEqual({ message: 'hello', said: 'hello', by: 'alice' });
      expect(Object.keys(result.structuredContent ?? {})[0]).toBe('message');
      expect(listed[1]?.outputSchema).toMatchObject({
        properties: { message: { type: 'string' }, said: { type: 'string' } },
        required: expect.arrayContaining(['message', 'said', 'by']),
      });
      const refused = await client.callTool({ name: 'first', arguments: { text: 'far too long' } });
      expect(refused.isError).toBe(true);
      expect(refused.content).toEqual([
        {
          type: 'text',
          text: expect.stringMatching(/^Invalid arguments: text: Too big: .+\. \[text_too_long\]$/),
        },
      ]);
      await client.close();
    }
  });

  it('installs only the named tool when a request calls one', async () => {
    const client = await connect(toolSet(), 'second');
    expect((await client.listTools()).tools.map((tool) => tool.name)).toEqual(['second']);
    await client.close();
  });

  it('leaves out, on the offline engine, the tools that require ElevenLabs: not listed, not callable', async () => {
    const tools = toolSet('offline');
    expect(tools.names).toEqual(['first', 'second']);
    expect(() =>
      tools.define(
        'cloud_only',
        { requires: 'elevenlabs', title: 'x', description: 'x', inputSchema: {}, annotations: {} },
        async () => ({ content: [] }),
      ),
    ).toThrow(/defined twice/);
    const client = await connect(tools);
    expect((await client.listTools()).tools.map((tool) => tool.name)).toEqual(['first', 'second']);
    await expect(client.callTool({ name: 'cloud_only', arguments: {} })).rejects.toThrow(
      /Tool cloud_only not found/,
    );
    await client.close();
  });

  describe('begin', () => {
    /** A tool whose early part is recorded, and whose handler says what it got. */
    function beginningTools() {
      const tools = new ToolSet({ engine: 'elevenlabs' });
      const begun: string[] = [];
      const undone: string[] = [];
      tools.define(
        'say',
        {
          title: 'say',
          description: 'Says it.',
          inputSchema: {
            text: z
              .string()
              .max(10)
              .transform((text) => text.trim()),
          },
          annotations: {},
          begin: (args, user) => {
            begun.push(`${user}:${args.text}`);
            return { work: `work for ${args.text}`, abandon: () => undone.push(args.text) };
          },
        },
        async (args, call, work) => ({
          content: [{ type: 'text', text: `${call.user} said ${args.text} with ${work ?? 'nothing begun'}` }],
        }),
      );
      tools.define(
        'plain',
        { title: 'plain', description: 'No early part.', inputSchema: {}, annotations: {} },
        async () => ({ content: [{ type: 'text', text: 'plain' }] }),
      );
      return { tools, begun, undone };
    }

    async function call(tools: ToolSet, name: string, args: unknown, begun?: ReturnType<ToolSet['begin']>) {
      const server = new McpServer({ name: 't', version: '1' }, { capabilities: { tools: {} } });
      tools.installOn(server, 'alice', 'legacy', name, begun);
      const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
      await server.connect(serverSide);
      const client = new Client({ name: 't', version: '1' });
      await client.connect(clientSide);
      const result = await client.callTool({ name, arguments: args as Record<string, unknown> });
      await client.close();
      return (result.content as { text: string }[])[0]?.text;
    }

    it('starts the early part from parsed arguments; the handler of that call takes it over, parsed once', async () => {
      const { tools, begun, undone } = beginningTools();
      const early = tools.begin('say', { text: ' hi ' }, 'alice');
      expect(begun).toEqual(['alice:hi']);
      expect(early?.claimed).toBe(false);
      expect(await call(tools, 'say', { text: ' hi ' }, early)).toBe('alice said hi with work for hi');
      expect(early?.claimed).toBe(true);
      // Taken over: undoing is no longer the caller's to do.
      early?.abandon();
      expect(undone).toEqual([]);
    });

    it('begins nothing for arguments the schema refuses, nor for a tool without an early part', async () => {
      const { tools, begun } = beginningTools();
      expect(tools.begin('say', { text: 'far too long to say' }, 'alice')).toBeUndefined();
      expect(tools.begin('say', { words: 'hi' }, 'alice')).toBeUndefined();
      expect(tools.begin('plain', {}, 'alice')).toBeUndefined();
      expect(tools.begin('missing', {}, 'alice')).toBeUndefined();
      expect(begun).toEqual([]);
      // Without it, the handler does everything itself, and refuses what the schema refuses.
      expect(await call(tools, 'say', { text: 'hello' })).toBe('alice said hello with nothing begun');
      expect(await call(tools, 'say', { text: 'far too long to say' })).toMatch(/^Invalid arguments: text/);
    });

    it('undoes the early part of a call no handler took over, once', () => {
      const { tools, undone } = beginningTools();
      const early = tools.begin('say', { text: 'bye' }, 'alice');
      early?.abandon();
      early?.abandon();
      expect(undone).toEqual(['bye']);
    });

    it('hands the early part only to the tool that began it', async () => {
      const { tools } = beginningTools();
      const early = tools.begin('say', { text: 'hi' }, 'alice');
      expect(await call(tools, 'plain', {}, early)).toBe('plain');
      expect(early?.claimed).toBe(false);
    });
  });
});

import { readFile } from 'node:fs/promises';
import { startStandin, type Standin } from '@earshot/elevenlabs-standin';
import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ElevenLabsEngine } from '../src/engines/elevenlabs.js';
import { connectMcp } from './support/mcp.js';
import { startTestServer, type TestServer } from './support/server.js';

const TOOLS_GUIDE = new URL('../../docs/tools.md', import.meta.url);
const UPSTREAM_KEY = 'docs-tools-upstream-key';

/** One row of a `| tool | inputs | returns | cost |` table in docs/tools.md. */
interface DocumentedTool {
  readonly name: string;
  /** Argument names; `optional` when written `name?`. */
  readonly inputs: { name: string; optional: boolean }[];
  /** "any of the above": every argument optional. */
  readonly anyOf: boolean;
  /** Top-level result fields, when the cell lists them (it starts with a code span); else null. */
  readonly returns: string[] | null;
}

/** Drops what is inside brackets and braces: `items[{id, text}], nextCursor` → `items, nextCursor`. */
function topLevel(list: string): string {
  let depth = 0;
  let out = '';
  for (const char of list) {
    if (char === '[' || char === '{') depth += 1;
    else if (char === ']' || char === '}') depth -= 1;
    else if (depth === 0) out += char;
  }
  return out;
}

function parseToolTables(markdown: string): DocumentedTool[] {
  const tools: DocumentedTool[] = [];
  let inTable = false;
  for (const line of markdown.split('\n')) {
    if (/^\| tool \| inputs \| returns \| cost \|$/.test(line)) inTable = true;
    else if (!line.startsWith('|')) inTable = false;
    if (!inTable) continue;
    const cells = line
      .split(/(?<!\\)\|/)
      .slice(1, -1)
      .map((cell) => cell.trim());
    const name = /^`([a-z_]+)`$/.exec(cells[0] ?? '')?.[1];
    if (!name) continue;
    const [, inputsCell = '', returnsCell = ''] = cells;
    const inputs = [...inputsCell.matchAll(/`([a-z][a-z0-9_]*)(\?)?(?:: [^`]*)?`/g)].map((match) => ({
      name: match[1]!,
      optional: match[2] === '?',
    }));
    const listed = /^`([^`]+)`/.exec(returnsCell)?.[1];
    const returns = listed
      ? topLevel(listed)
          .split(',')
          .map((field) => field.trim().replace(/\?$/, ''))
          .filter(Boolean)
      : null;
    tools.push({ name, inputs, anyOf: inputsCell.startsWith('any of the above'), returns });
  }
  return tools;
}

/** docs/tools.md against what the server really lists: names, arguments, results and annotations. */
describe('docs/tools.md matches tools/list', () => {
  let standin: Standin;
  let server: TestServer;
  let offline: TestServer;
  let listed: Tool[];
  let offlineListed: Tool[];
  let documented: DocumentedTool[];

  async function listTools(target: TestServer): Promise<Tool[]> {
    const client = await connectMcp(target.url, target.keys.alice);
    try {
      return (await client.listTools()).tools;
    } finally {
      await client.close();
    }
  }

  beforeAll(async () => {
    standin = await startStandin({ apiKeys: [UPSTREAM_KEY] });
    server = await startTestServer({
      engine: new ElevenLabsEngine({ apiKey: UPSTREAM_KEY, baseUrl: standin.url, maxRetries: 0 }),
    });
    offline = await startTestServer();
    [listed, offlineListed] = await Promise.all([listTools(server), listTools(offline)]);
    documented = parseToolTables(await readFile(TOOLS_GUIDE, 'utf8'));
  });
  afterAll(async () => {
    await server?.close();
    await offline?.close();
    await standin?.close();
  });

  it('documents every tool the server lists with ElevenLabs, and no other', () => {
    expect(documented.length).toBeGreaterThan(10);
    expect(documented.map((tool) => tool.name).sort()).toEqual(listed.map((tool) => tool.name).sort());
  });

  it('lists offline only tools it documents', () => {
    const names = new Set(documented.map((tool) => tool.name));
    expect(offlineListed.map((tool) => tool.name).filter((name) => !names.has(name))).toEqual([]);
  });

  it('gives each tool its real arguments, marking optional ones with "?" and required ones without', () => {
    const problems: string[] = [];
    for (const tool of listed) {
      const doc = documented.find((candidate) => candidate.name === tool.name);
      if (!doc) continue;
      const properties = Object.keys(tool.inputSchema.properties ?? {}).sort();
      const required = new Set(tool.inputSchema.required ?? []);
      if (doc.anyOf) {
        if (required.size > 0)
          problems.push(`${tool.name}: "any of" but requires ${[...required].join(', ')}`);
        continue;
      }
      const names = doc.inputs.map((input) => input.name).sort();
      if (names.join() !== properties.join())
        problems.push(`${tool.name}: documented (${names.join(', ')}), schema (${properties.join(', ')})`);
      for (const input of doc.inputs)
        if (input.optional && required.has(input.name))
          problems.push(`${tool.name}: ${input.name} is required, documented "${input.name}?"`);
      for (const name of required)
        if (doc.inputs.find((input) => input.name === name)?.optional !== false)
          problems.push(`${tool.name}: required ${name} not documented as required`);
    }
    expect(problems).toEqual([]);
  });

  it('lists the result fields each tool returns, where the table lists them', () => {
    const problems: string[] = [];
    for (const tool of listed) {
      const doc = documented.find((candidate) => candidate.name === tool.name);
      if (!doc?.returns) continue;
      const fields = Object.keys(tool.outputSchema?.properties ?? {}).sort();
      // The guide says once, above the tables, that every structuredContent also has `message`.
      const documentedFields = [...doc.returns, 'message'].sort();
      if (documentedFields.join() !== fields.join())
        problems.push(
          `${tool.name}: documented (${documentedFields.join(', ')}), outputSchema (${fields.join(', ')})`,
        );
    }
    expect(problems).toEqual([]);
  });

  it('annotates as the Annotations section says: read-only on reads, destructive on delete only', () => {
    const reads = /^(list_|search_|get_)|^speech_to_text$/;
    for (const tool of listed) {
      expect(tool.annotations?.readOnlyHint === true, tool.name).toBe(reads.test(tool.name));
      expect(tool.annotations?.destructiveHint === true, tool.name).toBe(tool.name === 'delete_history_item');
    }
  });
});

/**
 * MCP clients nobody on Earshot wrote (pinned in testing/clients/package.json), each driven the way an
 * application built on it calls a tool, reduced to one shape: what the model reads, what the application gets,
 * and the inline audio it can reach. No LLM is involved: each client's own tool-result conversion is called.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createMCPClient as createAiSdkClient } from '@ai-sdk/mcp';
import { createMCPClient as createAiSdkV1Client } from '@ai-sdk/mcp-v1';
import { ToolMessage } from '@langchain/core/messages';
import { MultiServerMCPClient } from '@langchain/mcp-adapters';
import { MCPClient, getMcpCallToolContent } from '@mastra/mcp';
import { connectMcpStdio, textOf } from './mcp.js';

export type ThirdPartyClientName = 'mcp-remote' | '@ai-sdk/mcp' | '@ai-sdk/mcp@1' | 'langchain' | 'mastra';
export const THIRD_PARTY_CLIENTS: readonly ThirdPartyClientName[] = [
  'mcp-remote',
  '@ai-sdk/mcp',
  '@ai-sdk/mcp@1',
  'langchain',
  'mastra',
];

/** An MCP content block as the clients pass it on (they all keep the wire shape). */
type Block = { type: string; text?: string; resource?: { uri?: string; mimeType?: string; blob?: string } };

export interface ClientOutcome {
  /** The call failed: an `isError` result, or the client threw (refused the result, or reports errors so). */
  readonly failed: boolean;
  /** What the model reads: the client's own conversion of the result (or of the error) into model input. */
  readonly modelText: string;
  /** `structuredContent` as the application receives it, when the client hands it on. */
  readonly structured: Record<string, unknown> | undefined;
  /** The WAV the application can reach inline: an embedded resource in what the client returns. */
  readonly inlineAudio: { uri: string | undefined; mimeType: string | undefined; bytes: Buffer } | undefined;
}

export interface ThirdPartyClient {
  readonly name: ThirdPartyClientName;
  /** The tool names the client offers an agent (without its own server-name prefix). */
  toolNames(): Promise<string[]>;
  call(tool: string, args: Record<string, unknown>): Promise<ClientOutcome>;
  close(): Promise<void>;
}

function inlineAudioOf(blocks: readonly Block[] | undefined): ClientOutcome['inlineAudio'] {
  const embedded = blocks?.find((block) => block.type === 'resource' && block.resource?.blob);
  if (!embedded?.resource?.blob) return undefined;
  const { uri, mimeType, blob } = embedded.resource;
  return { uri, mimeType, bytes: Buffer.from(blob, 'base64') };
}

function textOfBlocks(value: unknown): string {
  if (typeof value === 'string') return value;
  if (!Array.isArray(value)) return JSON.stringify(value);
  return (value as Block[]).map((block) => (block.type === 'text' ? (block.text ?? '') : '')).join('\n');
}

const refused = (error: unknown): ClientOutcome => ({
  failed: true,
  modelText: error instanceof Error ? error.message : String(error),
  structured: undefined,
  inlineAudio: undefined,
});

export async function connectThirdParty(
  name: ThirdPartyClientName,
  baseUrl: string,
  key: string,
): Promise<ThirdPartyClient> {
  const url = `${baseUrl}/mcp`;
  const headers = { Authorization: `Bearer ${key}` };
  switch (name) {
    case 'mcp-remote':
      return await connectMcpRemote(url, key);
    case '@ai-sdk/mcp':
    case '@ai-sdk/mcp@1':
      return await connectAiSdk(name, url, headers);
    case 'langchain':
      return connectLangChain(url, headers);
    case 'mastra':
      return connectMastra(url, headers);
  }
}

/**
 * mcp-remote as Claude Desktop runs it: a real process bridging stdio to Earshot's HTTP endpoint with the key
 * as a header, driven by the official SDK's stdio client. Its OAuth state folder is a temporary one.
 */
async function connectMcpRemote(url: string, key: string): Promise<ThirdPartyClient> {
  const configDir = await mkdtemp(join(tmpdir(), 'earshot-mcp-remote-'));
  const proxy = createRequire(import.meta.url).resolve('mcp-remote/dist/proxy.js');
  const env = Object.fromEntries(
    Object.entries(process.env).filter((entry): entry is [string, string] => entry[1] !== undefined),
  );
  const client = await connectMcpStdio(
    {
      command: process.execPath,
      args: [proxy, url, '--header', `Authorization:Bearer ${key}`, '--transport', 'http-only'],
      env: { ...env, MCP_REMOTE_CONFIG_DIR: configDir },
    },
    'legacy',
  );
  return {
    name: 'mcp-remote',
    toolNames: async () => (await client.listTools()).tools.map((tool) => tool.name),
    async call(tool, args) {
      const result = await client.callTool({ name: tool, arguments: args });
      return {
        failed: result.isError === true,
        modelText: textOf(result),
        structured: result.structuredContent,
        inlineAudio: inlineAudioOf(result.content),
      };
    },
    async close() {
      await client.close();
      await rm(configDir, { recursive: true, force: true });
    },
  };
}

interface AiSdkTool {
  execute?(args: unknown, options: { toolCallId: string; messages: never[]; context: object }): unknown;
  toModelOutput?(options: { toolCallId: string; input: unknown; output: unknown }): unknown;
}

/** The AI SDK's MCP client: `tools()` then each tool's `execute` and `toModelOutput`, as `generateText` runs them. */
async function connectAiSdk(
  name: '@ai-sdk/mcp' | '@ai-sdk/mcp@1',
  url: string,
  headers: Record<string, string>,
): Promise<ThirdPartyClient> {
  const transport = { type: 'http' as const, url, headers };
  const client =
    name === '@ai-sdk/mcp'
      ? await createAiSdkClient({ transport })
      : await createAiSdkV1Client({ transport });
  // The two lines' tool types differ in generics only; both run execute and toModelOutput alike.
  const tools = (await (client as { tools(): Promise<unknown> }).tools()) as Record<string, AiSdkTool>;
  return {
    name,
    toolNames: async () => Object.keys(tools),
    async call(tool, args) {
      const definition = tools[tool];
      if (!definition?.execute) throw new Error(`${name} offers no ${tool}`);
      let result: { content?: Block[]; structuredContent?: Record<string, unknown>; isError?: boolean };
      try {
        const options = { toolCallId: 'call-1', messages: [], context: {} };
        result = (await definition.execute(args, options)) as typeof result;
      } catch (error) {
        return refused(error);
      }
      const model = (await definition.toModelOutput?.({
        toolCallId: 'call-1',
        input: args,
        output: result,
      })) as { type: 'content'; value: { type: string; text?: string }[] } | undefined;
      return {
        failed: result.isError === true,
        modelText: model?.type === 'content' ? textOfBlocks(model.value) : JSON.stringify(model),
        structured: result.structuredContent,
        inlineAudio: inlineAudioOf(result.content),
      };
    },
    close: () => client.close(),
  };
}

/**
 * LangChain's adapters: `getTools()` then `invoke` with a tool call, as a LangGraph ToolNode does. The
 * ToolMessage's content is what the model reads; its artifact is what the application keeps. An `isError`
 * result is thrown as a ToolException, whose message a ToolNode hands to the model.
 */
function connectLangChain(url: string, headers: Record<string, string>): ThirdPartyClient {
  const client = new MultiServerMCPClient({ mcpServers: { earshot: { transport: 'http', url, headers } } });
  const tools = client.getTools();
  return {
    name: 'langchain',
    toolNames: async () => (await tools).map((tool) => tool.name),
    async call(tool, args) {
      const definition = (await tools).find((candidate) => candidate.name === tool);
      if (!definition) throw new Error(`langchain offers no ${tool}`);
      let message: unknown;
      try {
        message = await definition.invoke({ type: 'tool_call', id: 'call-1', name: tool, args });
      } catch (error) {
        return refused(error);
      }
      if (!(message instanceof ToolMessage)) throw new Error(`langchain returned ${String(message)}`);
      const artifacts = (message.artifact ?? []) as (Block & { data?: Record<string, unknown> })[];
      return {
        failed: message.status === 'error',
        modelText: textOfBlocks(message.content),
        structured: artifacts.find((artifact) => artifact.type === 'mcp_structured_content')?.data,
        inlineAudio: inlineAudioOf(artifacts),
      };
    },
    close: () => client.close(),
  };
}

/**
 * Mastra's MCPClient: `listTools()` (names prefixed `earshot_`) then `execute`, whose value is the
 * structuredContent alone; `toModelOutput` is what a Mastra agent gives the model, and the MCP content stays
 * reachable with getMcpCallToolContent. An `isError` result is thrown as a MastraError carrying its text.
 */
function connectMastra(url: string, headers: Record<string, string>): ThirdPartyClient {
  // @mastra/core reports usage to PostHog unless told not to; tests do not phone home.
  process.env.MASTRA_TELEMETRY_DISABLED ??= '1';
  const client = new MCPClient({
    id: `earshot-test-${process.pid}-${Math.random()}`,
    servers: { earshot: { url: new URL(url), requestInit: { headers } } },
  });
  const tools = client.listTools();
  return {
    name: 'mastra',
    toolNames: async () => Object.keys(await tools).map((name) => name.replace(/^earshot_/, '')),
    async call(tool, args) {
      const definition = (await tools)[`earshot_${tool}`];
      if (!definition?.execute) throw new Error(`mastra offers no ${tool}`);
      let output: unknown;
      try {
        // An agent passes its run context; the MCP wrapper needs none of it.
        output = await definition.execute(args, {} as Parameters<typeof definition.execute>[1]);
      } catch (error) {
        return refused(error);
      }
      const model = definition.toModelOutput?.(output) as { type: string; value: unknown } | undefined;
      return {
        failed: false,
        modelText: model?.type === 'text' ? String(model.value) : JSON.stringify(model?.value ?? output),
        structured: output as Record<string, unknown>,
        inlineAudio: inlineAudioOf(getMcpCallToolContent(output) as Block[] | undefined),
      };
    },
    close: () => client.disconnect(),
  };
}

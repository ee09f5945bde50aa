import {
  Client as ClientV2,
  StreamableHTTPClientTransport as HttpTransportV2,
} from '@modelcontextprotocol/client';
import { StdioClientTransport as StdioTransportV2 } from '@modelcontextprotocol/client/stdio';
import { Client as ClientV1 } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport as StdioTransportV1 } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport as HttpTransportV1 } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import {
  LATEST_PROTOCOL_VERSION,
  LoggingMessageNotificationSchema,
  type CallToolResult,
  type ListResourcesResult,
  type ReadResourceResult,
  type ServerCapabilities,
  type Tool,
} from '@modelcontextprotocol/sdk/types.js';
import { CLI_PATH } from './cli.js';

/**
 * The official clients tests speak with: `modern` is the v2 SDK client pinned to revision 2026-07-28 (no
 * initialize, `server/discover`, per-request `_meta`); `legacy` is the v1 SDK client (1.32), which speaks
 * 2025-11-25 with the initialize handshake, as most agents do today.
 */
export type McpClientKind = 'modern' | 'legacy';
export const MCP_CLIENT_KINDS: readonly McpClientKind[] = ['modern', 'legacy'];
export const MODERN_REVISION = '2026-07-28';

/** The headers of a raw MCP POST as a 2025 client sends them (the latest 2025 revision), `extra` on top. */
export function mcpPostHeaders(key: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    authorization: `Bearer ${key}`,
    accept: 'application/json, text/event-stream',
    'content-type': 'application/json',
    'mcp-protocol-version': LATEST_PROTOCOL_VERSION,
    ...extra,
  };
}

export type LoggingLevel =
  'debug' | 'info' | 'notice' | 'warning' | 'error' | 'critical' | 'alert' | 'emergency';

export interface CallOptions {
  onprogress?: (progress: { progress: number; total?: number; message?: string }) => void;
  signal?: AbortSignal;
  timeout?: number;
}

/** The same calls on either SDK's client, so a test runs unchanged against both. */
export interface McpTestClient {
  readonly kind: McpClientKind;
  callTool(
    params: { name: string; arguments?: Record<string, unknown>; _meta?: Record<string, unknown> },
    options?: CallOptions,
  ): Promise<CallToolResult>;
  listTools(): Promise<{ tools: Tool[] }>;
  listResources(): Promise<ListResourcesResult>;
  readResource(params: { uri: string }): Promise<ReadResourceResult>;
  ping(): Promise<unknown>;
  /** `logging/setLevel`: a 2025 request; 2026-07-28 clients name a level in each request's `_meta` instead. */
  setLoggingLevel(level: LoggingLevel): Promise<unknown>;
  /** The revision the connection speaks. */
  protocolVersion(): string | undefined;
  getServerCapabilities(): ServerCapabilities | undefined;
  getServerVersion(): { name: string; version: string } | undefined;
  onLogMessage(listener: (params: { level: string; data: unknown }) => void): void;
  close(): Promise<void>;
}

export interface StdioCommand {
  command: string;
  args: string[];
  env: Record<string, string>;
}

/** An MCP client over Streamable HTTP with the bearer key, as Cursor or Claude Code would connect. */
export async function connectMcp(
  baseUrl: string,
  key: string | undefined,
  kind: McpClientKind = 'modern',
): Promise<McpTestClient> {
  const url = new URL(`${baseUrl}/mcp`);
  const requestInit = key ? { headers: { Authorization: `Bearer ${key}` } } : {};
  if (kind === 'legacy') return connectV1(new HttpTransportV1(url, { requestInit }));
  return connectV2(new HttpTransportV2(url, { requestInit }));
}

/** An MCP client that starts `command` and speaks to it over stdio (stderr is piped, not inherited). */
export async function connectMcpStdio(
  params: StdioCommand,
  kind: McpClientKind = 'modern',
): Promise<McpTestClient> {
  const transportParams = { ...params, stderr: 'pipe' as const };
  if (kind === 'legacy') return connectV1(new StdioTransportV1(transportParams));
  return connectV2(new StdioTransportV2(transportParams));
}

/** An MCP client over stdio through `earshot mcp` bridging to a running server with a user's key. */
export function connectMcpBridge(
  baseUrl: string,
  key: string,
  kind: McpClientKind = 'modern',
): Promise<McpTestClient> {
  return connectMcpStdio(
    {
      command: process.execPath,
      args: [CLI_PATH, 'mcp'],
      env: { PATH: process.env.PATH ?? '', EARSHOT_URL: baseUrl, EARSHOT_API_KEY: key },
    },
    kind,
  );
}

/**
 * An MCP client over stdio through `earshot mcp` when no server answers on its port: it starts its own server
 * and serves stdio from it in process. `env` sets that server (PORT, EARSHOT_DATA_DIR, ELEVENLABS_…).
 */
export function connectMcpOwnServer(
  env: Record<string, string>,
  kind: McpClientKind = 'modern',
): Promise<McpTestClient> {
  return connectMcpStdio(
    { command: process.execPath, args: [CLI_PATH, 'mcp'], env: { PATH: process.env.PATH ?? '', ...env } },
    kind,
  );
}

async function connectV2(transport: HttpTransportV2 | StdioTransportV2): Promise<McpTestClient> {
  const client = new ClientV2(
    { name: 'earshot-test', version: '1.0.0' },
    { versionNegotiation: { mode: { pin: MODERN_REVISION } } },
  );
  await client.connect(transport);
  return {
    kind: 'modern',
    callTool: async (params, options) => (await client.callTool(params, options)) as CallToolResult,
    listTools: async () => (await client.listTools()) as { tools: Tool[] },
    listResources: async () => await client.listResources(),
    readResource: async (params) => await client.readResource(params),
    ping: () => client.ping(),
    setLoggingLevel: (level) => client.setLoggingLevel(level),
    protocolVersion: () => client.getNegotiatedProtocolVersion(),
    getServerCapabilities: () => client.getServerCapabilities(),
    getServerVersion: () => client.getServerVersion(),
    onLogMessage: (listener) =>
      client.setNotificationHandler('notifications/message', (n) => listener(n.params)),
    close: () => client.close(),
  };
}

async function connectV1(transport: HttpTransportV1 | StdioTransportV1): Promise<McpTestClient> {
  const client = new ClientV1({ name: 'earshot-test', version: '1.0.0' });
  await client.connect(transport);
  return {
    kind: 'legacy',
    callTool: async (params, options) =>
      (await client.callTool(params, undefined, options)) as CallToolResult,
    listTools: () => client.listTools(),
    listResources: () => client.listResources(),
    readResource: (params) => client.readResource(params),
    ping: () => client.ping(),
    setLoggingLevel: (level) => client.setLoggingLevel(level),
    protocolVersion: () =>
      transport instanceof HttpTransportV1 ? transport.protocolVersion : LEGACY_STDIO_REVISION,
    getServerCapabilities: () => client.getServerCapabilities(),
    getServerVersion: () => client.getServerVersion(),
    onLogMessage: (listener) =>
      client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => listener(n.params)),
    close: () => client.close(),
  };
}

/** The v1 stdio transport does not expose what initialize agreed; the v1 client asks for its latest. */
const LEGACY_STDIO_REVISION = '2025-11-25';

export function textOf(result: CallToolResult): string {
  return result.content.map((part) => (part.type === 'text' ? part.text : '')).join('\n');
}

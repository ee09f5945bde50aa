import type { McpServer } from '@modelcontextprotocol/server';
import { serveStdio } from '@modelcontextprotocol/server/stdio';
import type { Logger } from 'pino';
import type { ProtocolEra } from './tool-set.js';

export interface StdioSession {
  /** Ends the connection: closes its server and stdio. */
  close(): Promise<void>;
}

/**
 * MCP over this process's stdio, served in process — for `earshot mcp` when it started the server itself, so a
 * message needs no HTTP hop to a server in the same process (the bridge, stdio-bridge.ts, is for a server
 * elsewhere). The SDK's stdio entry decides the connection's revision from its first message, as the HTTP
 * endpoint does per request: a 2025 `initialize`, or a 2026-07-28 request carrying its `_meta` envelope
 * (`server/discover` included). It asks `serverFor` for one server of that era and keeps it for the
 * connection. stdout carries JSON-RPC and nothing else.
 */
export function serveStdioSession(serverFor: (era: ProtocolEra) => McpServer, logger: Logger): StdioSession {
  const handle = serveStdio(({ era }) => serverFor(era), {
    // Reported, not answered: the entry has already answered the client where there was a request to answer.
    onerror: (error) => logger.warn({ err: error }, 'MCP over stdio: a message was not served'),
  });
  return { close: () => handle.close() };
}

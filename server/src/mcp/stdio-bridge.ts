import { StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { isJSONRPCRequest, isJSONRPCResultResponse, type JSONRPCMessage } from '@modelcontextprotocol/server';
import { StdioServerTransport } from '@modelcontextprotocol/server/stdio';
import type { Logger } from 'pino';

export interface StdioBridgeOptions {
  /** Base URL of the Earshot server, without a trailing slash. */
  readonly baseUrl: string;
  readonly key: string | undefined;
  readonly logger: Logger;
}

export interface StdioBridge {
  /** Closes both ends. */
  close(): Promise<void>;
}

/**
 * MCP over stdio, forwarded message by message to an Earshot server's Streamable HTTP endpoint, so `earshot mcp`
 * serves whatever the server serves: a 2026-07-28 client's requests carry their revision in `_meta` and the HTTP
 * transport derives the per-request headers (`MCP-Protocol-Version`, `Mcp-Method`, `Mcp-Name`) from each one; a
 * 2025 client's `initialize` fixes the revision header for the rest of the connection. stdout carries JSON-RPC
 * and nothing else.
 */
export async function startStdioBridge(options: StdioBridgeOptions): Promise<StdioBridge> {
  const { baseUrl, key, logger } = options;
  const stdio = new StdioServerTransport();
  const http = new StreamableHTTPClientTransport(new URL(`${baseUrl}/mcp`), {
    requestInit: key ? { headers: { Authorization: `Bearer ${key}` } } : {},
  });
  const initializeIds = new Set<string | number>();

  stdio.onmessage = (message: JSONRPCMessage) => {
    if (isJSONRPCRequest(message) && message.method === 'initialize') initializeIds.add(message.id);
    http.send(message).catch((error: unknown) => {
      logger.error({ err: error }, 'forwarding to Earshot failed');
      if (!isJSONRPCRequest(message)) return;
      const detail = error instanceof Error ? error.message : String(error);
      void stdio.send({
        jsonrpc: '2.0',
        id: message.id,
        error: { code: -32603, message: `Earshot at ${baseUrl} could not be reached: ${detail}` },
      });
    });
  };
  http.onmessage = (message: JSONRPCMessage) => {
    // A 2025 client would set this header itself after initialize; the bridge does it on the client's behalf.
    if (initializeIds.size > 0 && isJSONRPCResultResponse(message) && initializeIds.delete(message.id)) {
      const version = (message.result as { protocolVersion?: unknown }).protocolVersion;
      if (typeof version === 'string') http.setProtocolVersion(version);
    }
    void stdio.send(message);
  };
  stdio.onerror = (error) => logger.warn({ err: error }, 'unreadable message on stdin');
  http.onerror = (error) => logger.warn({ err: error }, 'Earshot connection error');

  await http.start();
  await stdio.start();
  return {
    close: async () => {
      await stdio.close().catch(() => undefined);
      await http.close().catch(() => undefined);
    },
  };
}

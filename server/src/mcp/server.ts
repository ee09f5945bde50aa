import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { CallerContext, ToolDeps } from './context.js';
import { registerHistoryResource } from './resources.js';
import { registerTools } from './tools/index.js';

export const SERVER_INFO = { name: 'earshot', version: '0.1.0' } as const;

const INSTRUCTIONS =
  'Earshot gives you a voice. Call speak to say something aloud to the user in their Earshot player tab; ' +
  'keep it brief. If a result says no player is open, tell the user the player URL once.';

/** A fresh MCP server for one caller (stateless HTTP builds one per request). */
export function createMcpServer(deps: ToolDeps, caller: CallerContext): McpServer {
  const server = new McpServer(SERVER_INFO, {
    capabilities: { logging: {}, tools: {}, resources: {} },
    instructions: INSTRUCTIONS,
  });
  registerTools(server, deps, caller);
  registerHistoryResource(server, deps, caller);
  deps.logLevels.install(server, caller.user);
  return server;
}

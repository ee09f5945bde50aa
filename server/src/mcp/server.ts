import { McpServer } from '@modelcontextprotocol/server';
import { AjvJsonSchemaValidator } from '@modelcontextprotocol/server/validators/ajv';
import type { ToolDeps } from './context.js';
import { registerPlayerApp } from './player-app.js';
import { registerHistoryResource } from './resources.js';
import { ToolSet, type ProtocolEra } from './tool-set.js';
import { registerTools } from './tools/index.js';

export const SERVER_INFO = { name: 'earshot', version: '0.1.0' } as const;

const INSTRUCTIONS =
  'Earshot gives you a voice. Call speak to say something aloud to the user in their Earshot player tab; ' +
  'keep it brief. If a result says no player is open, tell the user the player URL once.';

/**
 * Makes the MCP server for one request (HTTP) or one connection, acting for `user`. `onlyTool`: the request is a
 * tools/call of that tool, so the server needs no other.
 */
export type EarshotServerFactory = (user: string, era: ProtocolEra, onlyTool?: string) => McpServer;

/**
 * Earshot's MCP surface, built once per process: the tools with their schemas (and those schemas' JSON Schema
 * forms), and one JSON Schema validator. What the returned factory does per request is cheap: a fresh SDK
 * server object holding references to them, bound to the caller. The SDK serves 2026-07-28 and the 2025
 * revisions from the same factory.
 */
export function createMcpServerFactory(deps: ToolDeps): EarshotServerFactory {
  const tools = new ToolSet({ engine: deps.engine.name });
  registerTools(tools, deps);
  // The SDK would make one per server; it only matters for elicitation, which Earshot does not use.
  const jsonSchemaValidator = new AjvJsonSchemaValidator();
  return (user, era, onlyTool) => {
    const server = new McpServer(SERVER_INFO, {
      // Stateless: there is no stream on which a list change could be announced.
      capabilities: { logging: {}, tools: { listChanged: false }, resources: { listChanged: false } },
      instructions: INSTRUCTIONS,
      jsonSchemaValidator,
    });
    tools.installOn(server, user, era, onlyTool);
    registerHistoryResource(server, deps, user);
    registerPlayerApp(server, deps);
    deps.logLevels.install(server, user);
    return server;
  };
}

import { McpServer, SUPPORTED_PROTOCOL_VERSIONS } from '@modelcontextprotocol/server';
import { AjvJsonSchemaValidator } from '@modelcontextprotocol/server/validators/ajv';
import type { ToolDeps } from './context.js';
import { registerPlayerApp } from './player-app.js';
import { MODERN_REVISIONS } from './modern-call.js';
import { registerHistoryResource } from './resources.js';
import { ToolSet, type BegunCall, type ProtocolEra } from './tool-set.js';
import { registerTools } from './tools/index.js';

export const SERVER_INFO = { name: 'earshot', version: '0.1.0' } as const;

const INSTRUCTIONS =
  'Earshot gives you a voice. Call speak to say something aloud to the user in their Earshot player tab; ' +
  'keep it brief. If a result says no player is open, tell the user the player URL once.';

/** Earshot's MCP surface for a process: servers for requests, and calls begun before their server exists. */
export interface EarshotMcp {
  /**
   * Makes the MCP server for one request (HTTP) or one connection, acting for `user`. `onlyTool`: the request
   * is a tools/call of that tool, so the server needs no other; `begun`: what `begin` started for that call.
   */
  server(user: string, era: ProtocolEra, onlyTool?: string, begun?: BegunCall): McpServer;
  /** Begins a tools/call of `tool` for `user` ahead of its dispatch (see ToolSet.begin). */
  begin(tool: string, args: unknown, user: string): BegunCall | undefined;
  /** Whether a call of `tool` can be begun at all. */
  begins(tool: string): boolean;
  /** Whether a call of `tool` is quick and sends no notifications. */
  answersAtOnce(tool: string): boolean;
  /** Whether `tool` is one of Earshot's tools. */
  has(tool: string): boolean;
}

/**
 * Earshot's MCP surface, built once per process: the tools with their schemas (and those schemas' JSON Schema
 * forms), and one JSON Schema validator. What the returned factory does per request is cheap: a fresh SDK
 * server object holding references to them, bound to the caller. The SDK serves 2026-07-28 and the 2025
 * revisions from the same factory.
 */
export function createEarshotMcp(deps: ToolDeps): EarshotMcp {
  const tools = new ToolSet({ engine: deps.engine.name });
  registerTools(tools, deps);
  // The SDK would make one per server; it only matters for elicitation, which Earshot does not use.
  const jsonSchemaValidator = new AjvJsonSchemaValidator();
  const server = (user: string, era: ProtocolEra, onlyTool?: string, begun?: BegunCall) => {
    const server = new McpServer(SERVER_INFO, {
      // Stateless: there is no stream on which a list change could be announced.
      capabilities: { logging: {}, tools: { listChanged: false }, resources: { listChanged: false } },
      instructions: INSTRUCTIONS,
      jsonSchemaValidator,
      // A server for a 2026-07-28 call lists that revision, so a per-request transport binds it (sse-answer.ts);
      // the SDK's handler adds it likewise. A 2025 server does not: initialize must not negotiate it.
      ...(era === 'modern' && {
        supportedProtocolVersions: [...SUPPORTED_PROTOCOL_VERSIONS, ...MODERN_REVISIONS],
      }),
    });
    tools.installOn(server, user, era, onlyTool, begun);
    // A server made for one tool call answers nothing else: resources and logging/setLevel would go unused (and
    // the resource templates are parsed anew for each server).
    if (onlyTool === undefined) {
      registerHistoryResource(server, deps, user);
      registerPlayerApp(server, deps);
      deps.logLevels.install(server, user);
    }
    return server;
  };
  return {
    server,
    begin: (tool, args, user) => tools.begin(tool, args, user),
    begins: (tool) => tools.begins(tool),
    answersAtOnce: (tool) => tools.answersAtOnce(tool),
    has: (tool) => tools.has(tool),
  };
}

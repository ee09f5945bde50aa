import type { LoggingLevel, McpServer } from '@modelcontextprotocol/server';
import type { ToolCall } from './tool-set.js';

const SEVERITY: Record<LoggingLevel, number> = {
  debug: 0,
  info: 1,
  notice: 2,
  warning: 3,
  error: 4,
  critical: 5,
  alert: 6,
  emergency: 7,
};

/**
 * MCP logging (`notifications/message` on the call's own response stream). Revision 2026-07-28 deprecates it:
 * a client that still wants log messages names its level in each request's `_meta` (the SDK applies that), and
 * without one it gets none. For the 2025 revisions `logging/setLevel` arrives on its own stateless HTTP request,
 * so the level is kept per user here (in memory, per process) and applied to later calls. Until a client sets a
 * level, nothing is sent.
 */
export class ClientLogLevels {
  private readonly levels = new Map<string, LoggingLevel>();

  /** Replaces the SDK's per-instance setLevel handler with one that remembers the level for the user. */
  install(server: McpServer, user: string): void {
    server.server.setRequestHandler('logging/setLevel', (request) => {
      this.levels.set(user, request.params.level);
      return {};
    });
  }

  /** Sends a log message on the call's stream if the client asked for this level or lower. */
  log(call: ToolCall, level: LoggingLevel, data: string): void {
    if (call.era === 'modern') {
      void call.ctx.mcpReq.log(level, data, 'earshot').catch(() => undefined);
      return;
    }
    const wanted = this.levels.get(call.user);
    if (wanted === undefined || SEVERITY[level] < SEVERITY[wanted]) return;
    void call.ctx.mcpReq
      .notify({ method: 'notifications/message', params: { level, logger: 'earshot', data } })
      .catch(() => undefined);
  }
}

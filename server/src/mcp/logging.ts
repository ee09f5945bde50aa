import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { RequestHandlerExtra } from '@modelcontextprotocol/sdk/shared/protocol.js';
import {
  SetLevelRequestSchema,
  type LoggingLevel,
  type ServerNotification,
  type ServerRequest,
} from '@modelcontextprotocol/sdk/types.js';

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
 * MCP logging for a stateless server: `logging/setLevel` arrives on its own HTTP request, so the level is
 * kept per user here (in memory, per process) and applied to the log messages later calls send on their
 * own response streams. Until a client sets a level, nothing is sent.
 */
export class ClientLogLevels {
  private readonly levels = new Map<string, LoggingLevel>();

  /** Replaces the SDK's per-instance setLevel handler with one that remembers the level for the user. */
  install(server: McpServer, user: string): void {
    server.server.setRequestHandler(SetLevelRequestSchema, async (request) => {
      this.levels.set(user, request.params.level);
      return {};
    });
  }

  /** Sends `notifications/message` on the call's stream if the user asked for this level or lower. */
  log(
    user: string,
    extra: RequestHandlerExtra<ServerRequest, ServerNotification>,
    level: LoggingLevel,
    data: string,
  ): void {
    const wanted = this.levels.get(user);
    if (wanted === undefined || SEVERITY[level] < SEVERITY[wanted]) return;
    void extra
      .sendNotification({ method: 'notifications/message', params: { level, logger: 'earshot', data } })
      .catch(() => undefined);
  }
}

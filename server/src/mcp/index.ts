export { registerMcpRoute, type McpRouteOptions } from './http-route.js';
export { createMcpServer, SERVER_INFO } from './server.js';
export { InFlightCalls } from './in-flight.js';
export { ClientLogLevels } from './logging.js';
export type { CallerContext, ToolDeps } from './context.js';

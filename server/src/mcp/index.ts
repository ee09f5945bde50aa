export { registerMcpRoute, type McpRouteOptions } from './http-route.js';
export { createMcpServerFactory, SERVER_INFO, type EarshotServerFactory } from './server.js';
export { InFlightCalls } from './in-flight.js';
export { ClientLogLevels } from './logging.js';
export type { ToolDeps } from './context.js';

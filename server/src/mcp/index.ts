export { registerMcpRoute, type McpRouteOptions } from './http-route.js';
export { jsonAnswer, type McpAnswer, type McpPost, type McpPostHandler } from './post-handler.js';
export { SseAnswerBody } from './sse-answer.js';
export { createEarshotMcp, SERVER_INFO, type EarshotMcp } from './server.js';
export { InFlightCalls } from './in-flight.js';
export { ClientLogLevels } from './logging.js';
export type { ToolDeps } from './context.js';

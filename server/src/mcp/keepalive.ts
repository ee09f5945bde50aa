/**
 * How often a silent MCP response stream gets a keepalive (an SSE comment, written by the SDK's handler; see
 * post-handler.ts): a third of CloudFront's 60 s origin read timeout (the tightest proxy in the AWS deployment, see
 * infra/src/constructs/console-site.ts), so two can be lost in a row. A `speak` waiting for a player's `played`,
 * or queued behind another speech, sends nothing for a while; proxies cut such a response and the client hanging
 * up cancels the call. Set with EARSHOT_SSE_KEEPALIVE_MS.
 */
export const SSE_KEEPALIVE_MS = 20_000;

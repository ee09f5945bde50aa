import type { FastifyRequest } from 'fastify';
import type { Config } from '../config/env.js';

/**
 * The origin users and clients reach Earshot at: EARSHOT_PUBLIC_URL when set (behind a proxy the request's own
 * scheme is not the public one), else the request's own scheme and Host — the Host was already checked
 * against the served names by the security hook, so it cannot be an attacker's name.
 */
export function publicOrigin(config: Pick<Config, 'publicUrl'>, request: FastifyRequest): string {
  if (config.publicUrl) return new URL(config.publicUrl).origin;
  return `${request.protocol}://${request.host}`;
}

/** Where the MCP endpoint's protected resource metadata lives (RFC 9728 §3.1: the path after the well-known name). */
export function resourceMetadataUrl(origin: string): string {
  return `${origin}/.well-known/oauth-protected-resource/mcp`;
}

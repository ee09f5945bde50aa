/** The discovery documents: protected resource metadata (RFC 9728) and authorization server metadata (RFC 8414). */
import { OAUTH_SCOPE } from '@earshot/protocol';
import type { FastifyInstance } from 'fastify';
import type { Config } from '../../config/env.js';
import { publicOrigin } from '../public-origin.js';

export function protectedResourceMetadata(origin: string) {
  return {
    resource: `${origin}/mcp`,
    authorization_servers: [origin],
    bearer_methods_supported: ['header'],
    scopes_supported: [OAUTH_SCOPE],
    resource_name: 'Earshot',
  };
}

export function authorizationServerMetadata(origin: string) {
  return {
    issuer: origin,
    authorization_endpoint: `${origin}/oauth/authorize`,
    token_endpoint: `${origin}/oauth/token`,
    registration_endpoint: `${origin}/oauth/register`,
    revocation_endpoint: `${origin}/oauth/revoke`,
    response_types_supported: ['code'],
    grant_types_supported: ['authorization_code', 'refresh_token'],
    code_challenge_methods_supported: ['S256'],
    token_endpoint_auth_methods_supported: ['none'],
    revocation_endpoint_auth_methods_supported: ['none'],
    scopes_supported: [OAUTH_SCOPE],
    authorization_response_iss_parameter_supported: true,
    client_id_metadata_document_supported: true,
  };
}

/** Public, no auth: an MCP client reads these before it has any credential. */
export function registerMetadataRoutes(app: FastifyInstance, config: Config): void {
  const resource = async (request: Parameters<typeof publicOrigin>[1]) =>
    protectedResourceMetadata(publicOrigin(config, request));
  app.get('/.well-known/oauth-protected-resource', resource);
  app.get('/.well-known/oauth-protected-resource/mcp', resource);
  app.get('/.well-known/oauth-authorization-server', async (request) =>
    authorizationServerMetadata(publicOrigin(config, request)),
  );
}

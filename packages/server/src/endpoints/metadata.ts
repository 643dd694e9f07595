import { type AuthorizationServerMetadata, jsonResponse, OFFLINE_ACCESS } from '@gatehouse/core';
import type { Context } from '../context.ts';

/**
 * RFC 8414 §2 metadata, served at `/.well-known/oauth-authorization-server` only. Not at
 * `/.well-known/openid-configuration`: Gatehouse is no OpenID Provider and issues no ID tokens,
 * so it has no `subject_types_supported` or `id_token_signing_alg_values_supported`, which OpenID
 * Connect Discovery §3 requires; MCP clients try the RFC 8414 location first.
 */
export function buildMetadata(ctx: Context): AuthorizationServerMetadata {
  const { issuer } = ctx.config;
  return {
    issuer,
    authorization_endpoint: `${issuer}/oauth/authorize`,
    token_endpoint: `${issuer}/oauth/token`,
    revocation_endpoint: `${issuer}/oauth/revoke`,
    introspection_endpoint: `${issuer}/oauth/introspect`,
    ...(ctx.config.registration.enabled ? { registration_endpoint: `${issuer}/oauth/register` } : {}),
    jwks_uri: `${issuer}/.well-known/jwks.json`,
    scopes_supported: [...ctx.catalogue.names, OFFLINE_ACCESS],
    response_types_supported: ['code'],
    response_modes_supported: ['query'],
    grant_types_supported: ['authorization_code', 'refresh_token', 'client_credentials'],
    token_endpoint_auth_methods_supported: [
      'none',
      'client_secret_basic',
      'client_secret_post',
      'private_key_jwt',
    ],
    token_endpoint_auth_signing_alg_values_supported: ['ES256', 'ES384', 'EdDSA', 'RS256', 'PS256'],
    revocation_endpoint_auth_methods_supported: [
      'none',
      'client_secret_basic',
      'client_secret_post',
      'private_key_jwt',
    ],
    introspection_endpoint_auth_methods_supported: [
      'client_secret_basic',
      'client_secret_post',
      'private_key_jwt',
    ],
    code_challenge_methods_supported: ['S256'],
    authorization_response_iss_parameter_supported: true,
    client_id_metadata_document_supported: ctx.config.clientIdMetadataDocuments.enabled !== false,
  };
}

export function metadataEndpoint(ctx: Context): () => Response {
  const body = JSON.stringify(buildMetadata(ctx));
  // Metadata is public and changes only with configuration; let clients cache it briefly.
  return () =>
    new Response(body, {
      headers: { 'content-type': 'application/json', 'cache-control': 'public, max-age=300' },
    });
}

export function jwksEndpoint(ctx: Context): () => Response {
  return () =>
    jsonResponse(ctx.keys.jwks(ctx.now()), 200, {
      'content-type': 'application/jwk-set+json',
      'cache-control': 'public, max-age=60',
    });
}

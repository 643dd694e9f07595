import type { AuthorizationServerMetadata } from '@gatehouse/core';
import { z } from 'zod';
import { ClientError } from '../errors.ts';
import { getJsonOrUndefined, type Outbound, requireSecureUrl } from '../http.ts';

const AsMetadataSchema = z.looseObject({
  issuer: z.string(),
  authorization_endpoint: z.string().optional(),
  token_endpoint: z.string().optional(),
  registration_endpoint: z.string().optional(),
  scopes_supported: z.array(z.string()).optional(),
  code_challenge_methods_supported: z.array(z.string()).optional(),
  token_endpoint_auth_methods_supported: z.array(z.string()).optional(),
  authorization_response_iss_parameter_supported: z.boolean().optional(),
  client_id_metadata_document_supported: z.boolean().optional(),
});

/**
 * The metadata URLs to try for an issuer, in the MCP spec's order. With a path component:
 * RFC 8414 path-inserted, OIDC path-inserted, OIDC path-appended. Without: RFC 8414, then OIDC.
 *
 * @see https://www.rfc-editor.org/rfc/rfc8414#section-3.1
 * @see https://modelcontextprotocol.io/specification/2025-11-25/basic/authorization#authorization-server-metadata-discovery
 */
export function authorizationServerMetadataUrls(issuer: string): string[] {
  const url = new URL(issuer);
  const path = url.pathname.replace(/\/$/, '');
  if (!path) {
    return [
      `${url.origin}/.well-known/oauth-authorization-server`,
      `${url.origin}/.well-known/openid-configuration`,
    ];
  }
  return [
    `${url.origin}/.well-known/oauth-authorization-server${path}`,
    `${url.origin}/.well-known/openid-configuration${path}`,
    `${url.origin}${path}/.well-known/openid-configuration`,
  ];
}

/**
 * Fetches and validates authorization server metadata: the document's `issuer` must equal the
 * issuer asked for (simple string comparison), endpoints must be https (or loopback), and S256
 * must be listed, since MCP clients must refuse to proceed without PKCE support. Each location
 * has a deadline (`timeoutMs`, default 5 s) and the caller's `signal` applies.
 *
 * @see https://www.rfc-editor.org/rfc/rfc8414#section-3.3
 * @see https://www.rfc-editor.org/rfc/rfc7636#section-4.2
 */
export async function discoverAuthorizationServer(
  issuer: string,
  options: Outbound,
): Promise<AuthorizationServerMetadata> {
  requireSecureUrl(issuer, 'issuer');
  for (const url of authorizationServerMetadataUrls(issuer)) {
    const parsed = AsMetadataSchema.safeParse(await getJsonOrUndefined(options, url));
    if (!parsed.success) continue;
    const metadata = parsed.data as AuthorizationServerMetadata;
    if (metadata.issuer !== issuer) {
      throw new ClientError(
        'issuer_mismatch',
        `metadata at ${url} names issuer ${metadata.issuer}, not ${issuer}`,
      );
    }
    if (!metadata.code_challenge_methods_supported?.includes('S256')) {
      throw new ClientError(
        'pkce_unsupported',
        `authorization server ${issuer} does not support PKCE with S256`,
      );
    }
    for (const key of [
      'authorization_endpoint',
      'token_endpoint',
      'registration_endpoint',
      'revocation_endpoint',
    ]) {
      const value = metadata[key];
      if (typeof value === 'string') requireSecureUrl(value, key);
    }
    return metadata;
  }
  throw new ClientError('discovery_failed', `no authorization server metadata found for ${issuer}`);
}

import type { ProtectedResourceMetadata } from '@gatehouse/core';
import { OFFLINE_ACCESS } from '@gatehouse/core';

/** The well-known suffix registered by RFC 9728 §3. */
export const PROTECTED_RESOURCE_WELL_KNOWN = '/.well-known/oauth-protected-resource';

/**
 * The path of the metadata document for `resource`: the well-known suffix inserted between the
 * host and the resource's path, e.g. `/.well-known/oauth-protected-resource/mcp`.
 *
 * @see https://www.rfc-editor.org/rfc/rfc9728#section-3.1
 */
export function protectedResourceMetadataPath(resource: string): string {
  const { pathname } = new URL(resource);
  return pathname === '/' ? PROTECTED_RESOURCE_WELL_KNOWN : `${PROTECTED_RESOURCE_WELL_KNOWN}${pathname}`;
}

/**
 * The absolute URL of the metadata document, as sent in `resource_metadata` challenges.
 *
 * @see https://www.rfc-editor.org/rfc/rfc9728#section-5.1
 */
export function protectedResourceMetadataUrl(resource: string): string {
  return new URL(protectedResourceMetadataPath(resource), resource).href;
}

/**
 * Builds the RFC 9728 §2 document. `offline_access` is never advertised: it is a request for a
 * refresh token from the authorization server, not a permission on this resource.
 *
 * @see https://www.rfc-editor.org/rfc/rfc9728#section-2
 */
export function buildProtectedResourceMetadata(params: {
  resource: string;
  authorizationServers: readonly string[];
  scopesSupported: readonly string[];
  resourceName?: string | undefined;
  resourceDocumentation?: string | undefined;
}): ProtectedResourceMetadata {
  const metadata: ProtectedResourceMetadata = {
    resource: params.resource,
    authorization_servers: [...params.authorizationServers],
    scopes_supported: params.scopesSupported.filter((s) => s !== OFFLINE_ACCESS),
    bearer_methods_supported: ['header'],
  };
  if (params.resourceName) metadata.resource_name = params.resourceName;
  if (params.resourceDocumentation) metadata.resource_documentation = params.resourceDocumentation;
  return metadata;
}

/**
 * The metadata response. It is public and cacheable, and readable cross-origin so that browser
 * based MCP clients can discover the authorization server.
 */
export function protectedResourceMetadataResponse(
  request: Request,
  metadata: ProtectedResourceMetadata,
): Response {
  const cors = {
    'access-control-allow-origin': '*',
    'access-control-allow-methods': 'GET, OPTIONS',
    'access-control-allow-headers': 'mcp-protocol-version',
  };
  if (request.method === 'OPTIONS') return new Response(null, { status: 204, headers: cors });
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    return new Response(null, { status: 405, headers: { ...cors, allow: 'GET, HEAD, OPTIONS' } });
  }
  return new Response(request.method === 'HEAD' ? null : JSON.stringify(metadata), {
    headers: { 'content-type': 'application/json', 'cache-control': 'public, max-age=300', ...cors },
  });
}

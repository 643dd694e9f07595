import type { ProtectedResourceMetadata } from '@gatehouse/core';
import { z } from 'zod';
import { ClientError } from '../errors.ts';
import { getJsonOrUndefined, type Outbound, requireSecureUrl } from '../http.ts';

const PrmSchema = z.looseObject({
  resource: z.string(),
  authorization_servers: z.array(z.string()).optional(),
  scopes_supported: z.array(z.string()).optional(),
});

/**
 * Where to look for protected-resource metadata, in the MCP spec's order: the `resource_metadata`
 * URL from the 401 challenge, then the path-inserted well-known URL, then the root one.
 *
 * @see https://www.rfc-editor.org/rfc/rfc9728#section-3.1
 * @see https://modelcontextprotocol.io/specification/2025-11-25/basic/authorization#protected-resource-metadata-discovery-requirements
 */
export function protectedResourceMetadataUrls(resourceUrl: URL, challengeUrl?: string): string[] {
  const urls: string[] = [];
  if (challengeUrl) urls.push(requireSecureUrl(challengeUrl, 'resource_metadata').href);
  const path = resourceUrl.pathname.replace(/\/$/, '');
  if (path) urls.push(`${resourceUrl.origin}/.well-known/oauth-protected-resource${path}`);
  urls.push(`${resourceUrl.origin}/.well-known/oauth-protected-resource`);
  return [...new Set(urls)];
}

/**
 * True when the metadata's `resource` identifies the server we are talking to: same origin, and
 * its path equal to or a parent (whole segments) of the URL's path.
 *
 * @see https://www.rfc-editor.org/rfc/rfc9728#section-3.3
 */
export function resourceCovers(resource: string, resourceUrl: URL): boolean {
  let r: URL;
  try {
    r = new URL(resource);
  } catch {
    return false;
  }
  if (r.origin !== resourceUrl.origin) return false;
  const rp = r.pathname.replace(/\/$/, '');
  const up = resourceUrl.pathname.replace(/\/$/, '');
  return rp === '' || up === rp || up.startsWith(`${rp}/`);
}

export interface DiscoveredResource {
  metadata: ProtectedResourceMetadata;
  /** Where the metadata was found. */
  url: string;
}

/**
 * Fetches RFC 9728 metadata for an MCP server URL, trying each location in order, and checks that
 * its `resource` covers that URL (otherwise a malicious server could obtain tokens for another).
 * Each location has a deadline (`timeoutMs`, default 5 s) and the caller's `signal` applies.
 *
 * @example const { metadata } = await discoverProtectedResource(new URL('https://mcp.example.com/mcp'), { fetch })
 * @see https://www.rfc-editor.org/rfc/rfc9728#section-3
 */
export async function discoverProtectedResource(
  resourceUrl: URL,
  options: Outbound & { resourceMetadataUrl?: string | undefined },
): Promise<DiscoveredResource> {
  for (const url of protectedResourceMetadataUrls(resourceUrl, options.resourceMetadataUrl)) {
    const parsed = PrmSchema.safeParse(await getJsonOrUndefined(options, url));
    if (!parsed.success) continue;
    const metadata = parsed.data as ProtectedResourceMetadata;
    if (!resourceCovers(metadata.resource, resourceUrl)) {
      throw new ClientError(
        'resource_mismatch',
        `protected resource metadata at ${url} names resource ${metadata.resource}, not ${resourceUrl.href}`,
      );
    }
    if (!metadata.authorization_servers?.length) {
      throw new ClientError(
        'discovery_failed',
        `protected resource metadata at ${url} lists no authorization server`,
      );
    }
    return { metadata, url };
  }
  throw new ClientError('discovery_failed', `no protected resource metadata found for ${resourceUrl.href}`);
}

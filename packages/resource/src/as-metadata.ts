import { type AuthorizationServerMetadata, DEFAULT_DEADLINE_MS, withDeadline } from '@gatehouse/core';

/**
 * The metadata URLs to try for an issuer, in order: RFC 8414 §3.1 (well-known inserted before the
 * issuer's path), then OpenID Connect Discovery 1.0 §4 in its inserted and appended forms, as
 * the MCP authorization spec prescribes for clients; a resource server follows the same order.
 *
 * @see https://www.rfc-editor.org/rfc/rfc8414#section-3.1
 */
export function authorizationServerMetadataUrls(issuer: string): string[] {
  const url = new URL(issuer);
  const path = url.pathname === '/' ? '' : url.pathname.replace(/\/$/, '');
  const at = (p: string) => new URL(p, url.origin).href;
  if (!path) return [at('/.well-known/oauth-authorization-server'), at('/.well-known/openid-configuration')];
  return [
    at(`/.well-known/oauth-authorization-server${path}`),
    at(`/.well-known/openid-configuration${path}`),
    at(`${path}/.well-known/openid-configuration`),
  ];
}

/**
 * Fetches and validates an authorization server's metadata. The document's `issuer` must equal
 * the configured issuer exactly (RFC 8414 §3.3), or an attacker who can serve one document could
 * impersonate another server. Each location gets its own deadline (headers and body), so an AS
 * that accepts connections and never answers fails the discovery instead of holding it.
 *
 * @see https://www.rfc-editor.org/rfc/rfc8414#section-3.3
 */
export async function discoverAuthorizationServer(
  issuer: string,
  fetchFn: typeof fetch,
  options: { timeoutMs?: number; signal?: AbortSignal } = {},
): Promise<AuthorizationServerMetadata> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_DEADLINE_MS;
  let lastError: unknown;
  for (const url of authorizationServerMetadataUrls(issuer)) {
    try {
      const metadata = await withDeadline(url, { timeoutMs, signal: options.signal }, async (signal) => {
        const response = await fetchFn(url, {
          headers: { accept: 'application/json' },
          redirect: 'error',
          signal,
        });
        if (!response.ok) {
          await response.body?.cancel();
          throw new Error(`metadata ${url} answered ${response.status}`);
        }
        return (await response.json()) as AuthorizationServerMetadata;
      });
      if (typeof metadata !== 'object' || metadata === null || metadata.issuer !== issuer) {
        throw new Error(`metadata at ${url} names a different issuer`);
      }
      return metadata;
    } catch (err) {
      if (options.signal?.aborted) throw err;
      lastError = err;
    }
  }
  throw new Error(`could not discover authorization server ${issuer}`, { cause: lastError });
}

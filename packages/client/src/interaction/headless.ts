import { ClientError } from '../errors.ts';
import type { FetchLike } from '../http.ts';
import type { AuthorizationInteraction, PendingAuthorization } from './types.ts';

export interface HeadlessInteractionOptions {
  /** The redirect URI to register; nothing listens on it, the redirect is read from `Location`. */
  redirectUri?: string;
  fetch?: FetchLike;
  /** Extra headers for the authorization request (a session cookie, for instance). */
  headers?: Record<string, string>;
  /** Redirects to follow before giving up. */
  maxRedirects?: number;
}

/**
 * Follows the authorization endpoint's redirects without a browser until one points at the
 * redirect URI, and returns that URL. For authorization servers that approve without user
 * interaction: test harnesses (the MCP conformance suite's mock AS) and pre-approved automation.
 */
export function headlessInteraction(options: HeadlessInteractionOptions = {}): AuthorizationInteraction {
  const redirectUri = options.redirectUri ?? 'http://127.0.0.1:33418/callback';
  const fetchFn = options.fetch ?? fetch;
  const max = options.maxRedirects ?? 5;
  const target = new URL(redirectUri);
  return {
    async begin(): Promise<PendingAuthorization> {
      return {
        redirectUri,
        async complete(authorizationUrl: URL): Promise<URL> {
          let url = authorizationUrl;
          for (let i = 0; i <= max; i++) {
            const res = await fetchFn(url, { redirect: 'manual', headers: options.headers ?? {} });
            await res.body?.cancel();
            const location = res.headers.get('location');
            if (res.status < 300 || res.status >= 400 || !location) break;
            url = new URL(location, url);
            if (url.origin === target.origin && url.pathname === target.pathname) return url;
          }
          throw new ClientError('authorization_failed', 'the authorization server did not redirect back');
        },
        async close() {},
      };
    },
  };
}

/**
 * The syntax of a client identifier that is a URL pointing at its own metadata document.
 *
 * @see https://datatracker.ietf.org/doc/html/draft-ietf-oauth-client-id-metadata-document#name-client-identifier
 */
import { OAuthError } from '@gatehouse/core';

/**
 * Cheap check the authorization server uses to pick the path for a `client_id`: true when it is an
 * `https://` (or `http://`) URL, so it names a Client ID Metadata Document rather than a registered
 * client. It does not validate the URL; {@link parseClientIdUrl} (called by the fetcher) does, so a
 * malformed URL gets a precise `invalid_client` reason instead of "unknown client". `http://` is
 * routed here too so that it is refused with a clear reason, or accepted by a development
 * configuration that opts in to plain HTTP.
 *
 * Look the `client_id` up among registered clients first: the draft allows pre-registering
 * document URLs, and Gatehouse never generates client ids that start with `https://`.
 *
 * @example isClientIdMetadataUrl('https://app.example.com/oauth/client.json') // true
 * @example isClientIdMetadataUrl('gh_client_3k2j') // false
 * @see https://datatracker.ietf.org/doc/html/draft-ietf-oauth-client-id-metadata-document#name-supporting-both-pre-registe
 */
export function isClientIdMetadataUrl(clientId: string): boolean {
  return /^https?:\/\//i.test(clientId);
}

export interface ParseClientIdUrlOptions {
  /** Development only: accept `http://` client identifiers (loopback test servers have no TLS). */
  dangerouslyAllowInsecureHttp?: boolean;
}

/**
 * Validates a client identifier URL: `https` scheme, a path beyond `/`, no fragment, no dot
 * segments, no userinfo, and already in the normalized form that the WHATWG URL parser produces, so
 * the string the client sent, the URL fetched and the `client_id` the document must repeat are one
 * and the same. A query string is allowed (the draft only discourages it), and so is a port.
 *
 * @throws OAuthError `invalid_client` naming the rule that was broken.
 * @see https://datatracker.ietf.org/doc/html/draft-ietf-oauth-client-id-metadata-document#name-client-identifier
 */
export function parseClientIdUrl(clientId: string, options: ParseClientIdUrlOptions = {}): URL {
  const refuse = (why: string) => new OAuthError('invalid_client', `The client_id URL ${why}.`);
  if (clientId.length > 2048) throw refuse('is too long');
  let url: URL;
  try {
    url = new URL(clientId);
  } catch {
    throw refuse('is not a valid URL');
  }
  const httpAllowed = options.dangerouslyAllowInsecureHttp === true && url.protocol === 'http:';
  if (url.protocol !== 'https:' && !httpAllowed) throw refuse('must use the https scheme');
  if (url.username !== '' || url.password !== '') throw refuse('must not contain a username or password');
  // `https://a.example/x#` has an empty fragment that `url.hash` does not show.
  if (clientId.includes('#')) throw refuse('must not contain a fragment');
  if (hasDotSegment(clientId)) throw refuse('must not contain "." or ".." path segments');
  if (url.pathname === '/' || url.pathname === '') throw refuse('must contain a path');
  if (url.href !== clientId)
    throw refuse('must be in normalized form (lower-case scheme and host, no default port)');
  return url;
}

/** True when the raw path holds a `.` or `..` segment, also percent-encoded (`%2e`), which parsers remove. */
function hasDotSegment(raw: string): boolean {
  const afterScheme = raw.replace(/^[a-z][a-z0-9+.-]*:\/\/[^/?#]*/i, '');
  const path = afterScheme.split(/[?#]/, 1)[0] ?? '';
  return path.split(/[/\\]/).some((segment) => /^(?:\.|%2e){1,2}$/i.test(segment));
}

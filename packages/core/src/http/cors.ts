/**
 * CORS for what browser-based MCP clients call: metadata, JWKS, registration, token and
 * revocation. `*` without credentials: these endpoints never read cookies, so any origin may read
 * their answers; the answers hold nothing a cookie would have unlocked.
 *
 * @see https://fetch.spec.whatwg.org/#http-cors-protocol
 */

/** Request headers MCP clients send to these endpoints. */
const ALLOWED_HEADERS = 'authorization, content-type, mcp-protocol-version';
/** Response headers a browser client needs to read (challenges, rate limits, request ids). */
const EXPOSED_HEADERS = 'www-authenticate, retry-after, x-request-id';

/** Headers added to every answer of a CORS route. */
export const CORS_RESPONSE_HEADERS: ReadonlyArray<readonly [string, string]> = [
  ['access-control-allow-origin', '*'],
  ['access-control-expose-headers', EXPOSED_HEADERS],
];

/** The answer to a preflight `OPTIONS` (RFC 9110 §9.3.7; Fetch §3.2.3) for a route allowing `allow`. */
export function preflightResponse(allow: string): Response {
  return new Response(null, {
    status: 204,
    headers: {
      allow,
      'access-control-allow-origin': '*',
      'access-control-allow-methods': allow,
      'access-control-allow-headers': ALLOWED_HEADERS,
      'access-control-max-age': '600',
    },
  });
}

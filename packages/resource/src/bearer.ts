import { OAuthError } from '@gatehouse/core';

/** RFC 6750 §2.1: `b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="`. */
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;

/**
 * Reads the bearer token from the `Authorization` header, the only method this resource supports.
 * Returns undefined when no bearer credentials were sent (the caller answers 401 with a bare
 * challenge); throws `invalid_request` (400) for a malformed header or a token in the query string,
 * which RFC 9700 §4.3.3 and the MCP authorization spec forbid because URLs end up in logs.
 *
 * @see https://www.rfc-editor.org/rfc/rfc6750#section-2.1
 */
export function extractBearerToken(request: Request): string | undefined {
  // Most requests have no query at all: parse the URL only when there is one.
  const url = request.url;
  if (url.includes('?') && new URL(url).searchParams.has('access_token')) {
    throw new OAuthError('invalid_request', 'Access tokens are accepted only in the Authorization header.');
  }
  const header = request.headers.get('authorization');
  if (header === null) return undefined;
  const match = /^Bearer +(\S*)$/i.exec(header.trim());
  if (!match) {
    // Another scheme (Basic, DPoP…) is not bearer credentials: answer with a bare challenge.
    if (/^[A-Za-z0-9!#$%&'*+.^_`|~-]+(\s|$)/.test(header) && !/^Bearer(\s|$)/i.test(header)) return undefined;
    throw new OAuthError('invalid_request', 'The Authorization header is malformed.');
  }
  const token = match[1] as string;
  if (!B64TOKEN.test(token))
    throw new OAuthError('invalid_request', 'The Authorization header is malformed.');
  return token;
}

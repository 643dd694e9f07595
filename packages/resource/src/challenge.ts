import { formatBearerChallenge, formatScope, noStoreHeaders, type OAuthError } from '@gatehouse/core';

/**
 * Builds the responses a protected resource sends when it refuses a request: each carries one
 * `Bearer` challenge with `resource_metadata` (RFC 9728 §5.1) so that a client can discover the
 * authorization server, and `scope` so that it knows what to ask for.
 *
 * @see https://www.rfc-editor.org/rfc/rfc6750#section-3
 */
export function challengeResponse(params: {
  resourceMetadataUrl: string;
  /** Absent when the request carried no credentials (RFC 6750 §3.1: then no error code). */
  error?: OAuthError | undefined;
  scopes?: readonly string[] | undefined;
}): Response {
  const { error } = params;
  const scope = params.scopes && params.scopes.length > 0 ? formatScope(params.scopes) : undefined;
  const code =
    error && (error.code === 'invalid_request' || error.code === 'insufficient_scope')
      ? error.code
      : 'invalid_token';
  const header = formatBearerChallenge({
    ...(error ? { error: code, ...(error.description ? { error_description: error.description } : {}) } : {}),
    ...(scope ? { scope } : {}),
    resource_metadata: params.resourceMetadataUrl,
  });
  const headers = {
    ...noStoreHeaders,
    'www-authenticate': header,
    // Browser-based clients must be able to read the challenge.
    'access-control-expose-headers': 'WWW-Authenticate',
  };
  if (!error) {
    const { 'content-type': _json, ...bare } = headers;
    return new Response(null, { status: 401, headers: bare });
  }
  const status = code === 'invalid_request' ? 400 : code === 'insufficient_scope' ? 403 : 401;
  const body = error.description ? { error: code, error_description: error.description } : { error: code };
  return new Response(JSON.stringify(scope && code === 'insufficient_scope' ? { ...body, scope } : body), {
    status,
    headers,
  });
}

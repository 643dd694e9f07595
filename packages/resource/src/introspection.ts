import type { IntrospectionResponse } from '@gatehouse/core';
import { OAuthError, withDeadline } from '@gatehouse/core';
import { type AuthInfo, authInfoFromClaims } from './verified-token.ts';

export interface IntrospectionOptions {
  /** The AS's `introspection_endpoint`, resolved lazily from its metadata. */
  endpoint: () => Promise<string>;
  /** This resource server's own client credentials at the AS (RFC 7662 §2.1 requires authentication). */
  clientId: string;
  clientSecret: string;
  resource: string;
  issuers: ReadonlySet<string>;
  fetch: typeof fetch;
  now: () => number;
  clockToleranceSeconds: number;
  /** Deadline of the introspection request, body included. */
  timeoutMs: number;
  /** Aborts the request when the guard closes. */
  signal?: AbortSignal;
}

/**
 * Validates an opaque access token by asking the authorization server. The answer must say
 * `active`, name this resource in `aud` (audience is always checked) and a trusted `iss`. An AS
 * that cannot be reached, or does not answer within the deadline, fails closed with
 * `temporarily_unavailable` (503): the token is neither accepted nor declared invalid.
 *
 * @see https://www.rfc-editor.org/rfc/rfc7662#section-2
 */
export async function introspectAccessToken(token: string, options: IntrospectionOptions): Promise<AuthInfo> {
  let body: IntrospectionResponse;
  try {
    const basic = Buffer.from(
      `${encodeURIComponent(options.clientId)}:${encodeURIComponent(options.clientSecret)}`,
    ).toString('base64');
    const endpoint = await options.endpoint();
    const { timeoutMs, signal } = options;
    body = await withDeadline(endpoint, { timeoutMs, signal }, async (signal) => {
      const response = await options.fetch(endpoint, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          accept: 'application/json',
          authorization: `Basic ${basic}`,
        },
        body: new URLSearchParams({ token, token_type_hint: 'access_token' }),
        redirect: 'error',
        signal,
      });
      if (!response.ok) {
        await response.body?.cancel();
        throw new Error(`introspection answered ${response.status}`);
      }
      return (await response.json()) as IntrospectionResponse;
    });
  } catch (err) {
    throw new OAuthError('temporarily_unavailable', 'The authorization server could not be reached.', {
      cause: err,
    });
  }
  if (body.active !== true) throw new OAuthError('invalid_token', 'The access token is not active.');
  const audiences = typeof body.aud === 'string' ? [body.aud] : Array.isArray(body.aud) ? body.aud : [];
  if (!audiences.includes(options.resource)) {
    throw new OAuthError('invalid_token', 'The access token is not meant for this resource.');
  }
  if (typeof body.iss !== 'string' || !options.issuers.has(body.iss)) {
    throw new OAuthError(
      'invalid_token',
      'The access token was not issued by a trusted authorization server.',
    );
  }
  if (typeof body.exp === 'number' && body.exp + options.clockToleranceSeconds <= options.now() / 1000) {
    throw new OAuthError('invalid_token', 'The access token has expired.');
  }
  const auth = authInfoFromClaims(token, options.resource, body);
  if (!auth) throw new OAuthError('invalid_token', 'The access token lacks required claims.');
  return auth;
}

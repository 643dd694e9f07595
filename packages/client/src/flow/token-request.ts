import type { AuthorizationServerMetadata, TokenResponse } from '@gatehouse/core';
import { ClientError } from '../errors.ts';
import { formBody, type Outbound, postForJson } from '../http.ts';
import { applyClientAuthentication, type ClientAuthentication } from './client-auth.ts';

/**
 * POSTs a grant to the token endpoint and returns the parsed response. OAuth errors become a
 * `ClientError` carrying the server's code (`invalid_grant` → `reauthorization_required`); the
 * response body is never copied into the message, since it could echo a credential. The request
 * has a deadline (`timeoutMs`, default 5 s, body included) and the caller's `signal` applies.
 *
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-5
 */
export async function requestToken(
  as: AuthorizationServerMetadata,
  auth: ClientAuthentication,
  params: Record<string, string | undefined>,
  options: Outbound & { now: () => number },
): Promise<TokenResponse> {
  if (!as.token_endpoint) throw new ClientError('discovery_failed', `${as.issuer} has no token_endpoint`);
  const headers = new Headers({
    'content-type': 'application/x-www-form-urlencoded',
    accept: 'application/json',
  });
  const body = formBody(params);
  await applyClientAuthentication(auth, headers, body, as.issuer, options.now);
  const { res, json } = await postForJson(
    options,
    as.token_endpoint,
    { headers, body },
    'token_request_failed',
    `token endpoint of ${as.issuer} is unreachable`,
  );
  if (!res.ok || !json || typeof json.access_token !== 'string') {
    const error = typeof json?.error === 'string' ? json.error : undefined;
    if (error === 'invalid_grant' && params.grant_type === 'refresh_token') {
      throw new ClientError('reauthorization_required', 'the grant is no longer valid: log in again', {
        oauthError: error,
      });
    }
    throw new ClientError(
      'token_request_failed',
      `token request to ${as.issuer} failed: ${error ?? `HTTP ${res.status}`}`,
      error ? { oauthError: error } : {},
    );
  }
  if (typeof json.token_type !== 'string' || json.token_type.toLowerCase() !== 'bearer') {
    throw new ClientError('token_request_failed', `unsupported token_type from ${as.issuer}`);
  }
  return json as TokenResponse;
}

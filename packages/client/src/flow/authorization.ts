import type { AuthorizationServerMetadata } from '@gatehouse/core';
import { ClientError } from '../errors.ts';

/**
 * Builds the authorization request URL: code flow with PKCE S256, `state`, and the RFC 8707
 * `resource` so the token is bound to the MCP server.
 *
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-4.1.1
 * @see https://www.rfc-editor.org/rfc/rfc7636#section-4.3
 * @see https://www.rfc-editor.org/rfc/rfc8707#section-2.1
 */
export function buildAuthorizationUrl(
  as: AuthorizationServerMetadata,
  params: {
    client_id: string;
    redirect_uri: string;
    state: string;
    code_challenge: string;
    resource: string;
    scope?: string | undefined;
  },
): URL {
  if (!as.authorization_endpoint) {
    throw new ClientError('discovery_failed', `${as.issuer} has no authorization_endpoint`);
  }
  const url = new URL(as.authorization_endpoint);
  url.searchParams.set('response_type', 'code');
  url.searchParams.set('client_id', params.client_id);
  url.searchParams.set('redirect_uri', params.redirect_uri);
  url.searchParams.set('state', params.state);
  url.searchParams.set('code_challenge', params.code_challenge);
  url.searchParams.set('code_challenge_method', 'S256');
  url.searchParams.set('resource', params.resource);
  if (params.scope) url.searchParams.set('scope', params.scope);
  return url;
}

/**
 * Validates the redirect back from the authorization server and returns the code. `state` must
 * match; `iss` (RFC 9207) must equal the issuer whenever present, and must be present when the
 * server advertises `authorization_response_iss_parameter_supported`. Comparison is exact string
 * equality, with no URL normalisation (RFC 9207 §2.4).
 *
 * @see https://www.rfc-editor.org/rfc/rfc9207#section-2.4
 */
export function parseAuthorizationResponse(
  callback: URL,
  expected: { state: string; issuer: string; issRequired: boolean },
): string {
  const p = callback.searchParams;
  if (p.get('state') !== expected.state) {
    throw new ClientError(
      'state_mismatch',
      'the authorization response does not belong to this request (state)',
    );
  }
  const iss = p.get('iss');
  if (iss === null ? expected.issRequired : iss !== expected.issuer) {
    throw new ClientError(
      'iss_mismatch',
      iss === null
        ? `the authorization response lacks the iss parameter ${expected.issuer} promised`
        : 'the authorization response comes from a different issuer (iss)',
    );
  }
  const error = p.get('error');
  if (error) {
    throw new ClientError('authorization_failed', `authorization was not granted: ${error}`, {
      oauthError: error,
    });
  }
  const code = p.get('code');
  if (!code) throw new ClientError('authorization_failed', 'the authorization response carries no code');
  return code;
}

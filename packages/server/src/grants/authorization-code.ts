import {
  OAuthError,
  parseScope,
  revocationExpiryForGrant,
  type TokenResponse,
  verifyPkce,
} from '@gatehouse/core';
import type { Context } from '../context.ts';
import type { AuthorizationCodeRecord, ClientRecord } from '../store/types.ts';
import { issueTokens } from './issue.ts';

/**
 * RFC 6749 §4.1.3: `redirect_uri` must be sent, and be identical, when the authorization request
 * included it. When that request omitted it, the code went to the client's single registered
 * redirect URI (OAuth 2.1 §4.1.1): a token request may still name that one, and nothing else.
 * `client` is the client as registered now, read past the cache.
 */
function checkRedirectUri(
  code: AuthorizationCodeRecord,
  client: ClientRecord,
  sent: string | undefined,
): void {
  const matches =
    code.redirect_uri !== ''
      ? sent === code.redirect_uri
      : sent === undefined || (client.redirect_uris.length === 1 && client.redirect_uris[0] === sent);
  if (!matches)
    throw new OAuthError('invalid_grant', 'redirect_uri does not match the authorization request.');
}

/**
 * `grant_type=authorization_code` (RFC 6749 §4.1.3, OAuth 2.1 §4.1.3, RFC 7636 §4.6).
 * The code is redeemed first, atomically, so a code is single-use whatever happens next; a
 * replayed code revokes the grant (and so every token) the first redemption produced.
 */
export async function authorizationCodeGrant(
  ctx: Context,
  client: ClientRecord,
  form: Map<string, string>,
): Promise<TokenResponse> {
  const code = form.get('code');
  const verifier = form.get('code_verifier');
  if (!code) throw new OAuthError('invalid_request', 'code is required.');
  if (!verifier) throw new OAuthError('invalid_request', 'code_verifier is required (PKCE).');

  const now = ctx.now();
  const grantId = crypto.randomUUID();
  const result = await ctx.store.redeemCode(
    ctx.secrets.hash(code),
    { id: grantId, created_at: now, last_used_at: now, expires_at: now + ctx.config.refreshTokenTtl },
    now,
  );
  if (result.status === 'not_found')
    throw new OAuthError('invalid_grant', 'The authorization code is invalid.');
  // Disabled or removed since approving: "takes effect at once" covers codes in flight.
  if (result.status === 'user_inactive')
    throw new OAuthError('invalid_grant', 'The authorization code is no longer valid.');
  if (result.status === 'replayed') {
    if (result.code.grant_id) await ctx.revokeGrant(result.code.grant_id, 'authorization code replayed');
    throw new OAuthError('invalid_grant', 'The authorization code has already been used.');
  }

  const redeemed = result.code;
  // Every check below failing leaves a consumed code and a grant that never issued a token: revoke it.
  try {
    if (redeemed.client_id !== client.client_id) {
      throw new OAuthError('invalid_grant', 'The authorization code was issued to another client.');
    }
    if (redeemed.expires_at <= now)
      throw new OAuthError('invalid_grant', 'The authorization code has expired.');
    // A new grant must not outlive its client's removal by the client cache's few seconds.
    const current = await ctx.clients.fresh(client.client_id);
    if (!current) throw new OAuthError('invalid_client', 'The client is not registered with this server.');
    checkRedirectUri(redeemed, current, form.get('redirect_uri'));
    if (!verifyPkce(verifier, redeemed.code_challenge)) {
      throw new OAuthError('invalid_grant', 'The code_verifier does not match the code_challenge.');
    }
    const resource = form.get('resource');
    if (resource !== undefined && resource !== redeemed.resource) {
      throw new OAuthError('invalid_target', 'resource does not match the authorization request.');
    }
  } catch (err) {
    await ctx.store.revokeGrant(grantId, now, revocationExpiryForGrant(now));
    throw err;
  }

  const grant = await ctx.store.getGrant(grantId);
  if (!grant) throw new OAuthError('server_error');
  await ctx.audit({
    type: 'token.issued',
    grant_id: grantId,
    client_id: client.client_id,
    user_id: grant.subject,
    detail: { grant_type: 'authorization_code' },
  });
  return issueTokens(ctx, grant, parseScope(grant.scope), {
    refreshToken: client.grant_types.includes('refresh_token') && redeemed.offline_declined !== true,
  });
}

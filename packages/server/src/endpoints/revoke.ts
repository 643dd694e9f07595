import { OAuthError, revocationExpiryForToken } from '@gatehouse/core';
import { authenticateClient } from '../clients/authenticate.ts';
import type { Context } from '../context.ts';
import { readForm } from '../http/form.ts';
import { isWellFormedOpaqueToken, REFRESH_TOKEN_PREFIX } from '../tokens/opaque.ts';
import { verifyOwnAccessToken } from '../tokens/verify-access-token.ts';

/**
 * `POST /oauth/revoke` (RFC 7009 §2). Revoking a refresh token revokes its whole grant; revoking
 * an access token revokes that token. The hint is honoured as a hint only: the token's own shape
 * decides. Unknown tokens, and tokens of other clients, get 200 and change nothing (§2.2).
 * Takes effect before the response is sent: in this process at once, elsewhere via the feed.
 */
export async function revokeEndpoint(ctx: Context, request: Request): Promise<Response> {
  const form = await readForm(request);
  const client = await authenticateClient(ctx, request, form);
  const token = form.get('token');
  if (!token) throw new OAuthError('invalid_request', 'token is required.');
  // RFC 7009 §2.1: token_type_hint is advisory, and an unknown one is ignored rather than
  // refused; the token's own shape decides how it is looked up.
  if (isWellFormedOpaqueToken(REFRESH_TOKEN_PREFIX, token)) {
    const record = await ctx.store.getRefreshToken(ctx.secrets.hash(token));
    if (record && record.client_id === client.client_id) {
      await ctx.revokeGrant(record.grant_id, 'refresh token revoked by client', client.client_id);
    }
  } else {
    const claims = await verifyOwnAccessToken(ctx, token);
    if (claims && claims.client_id === client.client_id && !ctx.revocations.isRevoked(claims)) {
      await ctx.store.revokeAccessToken(claims.jti, revocationExpiryForToken(claims.exp));
      await ctx.revocations.sync();
      await ctx.audit({
        type: 'token.revoked',
        client_id: client.client_id,
        grant_id: claims.gid,
        detail: { jti: claims.jti },
      });
    }
  }
  return new Response(null, { status: 200, headers: { 'cache-control': 'no-store' } });
}

import { OFFLINE_ACCESS, type TokenResponse } from '@gatehouse/core';
import type { Context } from '../context.ts';
import type { GrantRecord } from '../store/types.ts';
import { issueAccessToken } from '../tokens/access-token.ts';
import { createOpaqueToken, REFRESH_TOKEN_PREFIX } from '../tokens/opaque.ts';

/**
 * The token response with a JWT access token for the grant's resource, and no refresh token.
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-5.1
 */
export async function accessTokenResponse(
  ctx: Context,
  grant: GrantRecord,
  scope: string[],
  now: number,
): Promise<TokenResponse> {
  // offline_access asks for a refresh token; it is not a permission on the resource.
  const accessScope = scope.filter((s) => s !== OFFLINE_ACCESS).join(' ');
  const { token } = await issueAccessToken(ctx.keys.active, {
    issuer: ctx.config.issuer,
    subject: grant.subject,
    resource: grant.resource,
    clientId: grant.client_id,
    scope: accessScope,
    grantId: grant.id,
    now,
    ttl: ctx.config.accessTokenTtl,
  });
  return {
    access_token: token,
    token_type: 'Bearer',
    expires_in: ctx.config.accessTokenTtl,
    scope: accessScope,
  };
}

/**
 * Issues the token response for a new grant: the access token and, when asked, a refresh token
 * stored only as its HMAC.
 */
export async function issueTokens(
  ctx: Context,
  grant: GrantRecord,
  scope: string[],
  options: { refreshToken: boolean },
): Promise<TokenResponse> {
  const now = ctx.now();
  const response = await accessTokenResponse(ctx, grant, scope, now);
  if (options.refreshToken) {
    const refreshToken = createOpaqueToken(REFRESH_TOKEN_PREFIX);
    await ctx.store.saveRefreshToken({
      token_hash: ctx.secrets.hash(refreshToken),
      grant_id: grant.id,
      client_id: grant.client_id,
      scope: scope.join(' '),
      created_at: now,
      expires_at: grant.expires_at,
    });
    response.refresh_token = refreshToken;
  }
  return response;
}

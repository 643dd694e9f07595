import {
  formatScope,
  narrowScopes,
  OAuthError,
  parseScope,
  scopeCovers,
  type TokenResponse,
} from '@gatehouse/core';
import type { Context } from '../context.ts';
import type { ClientRecord, GrantRecord, RefreshTokenRecord } from '../store/types.ts';
import { createOpaqueToken, isWellFormedOpaqueToken, REFRESH_TOKEN_PREFIX } from '../tokens/opaque.ts';
import { accessTokenResponse } from './issue.ts';

const invalid = (description: string) => new OAuthError('invalid_grant', description);

/** The successor response is kept encrypted, bound to the token it answers. */
const successorContext = (tokenHash: string) => `refresh-successor:${tokenHash}`;

/**
 * Why a refresh token is not live at `now`, or undefined when it is: the one definition shared by
 * the token endpoint and introspection, so introspection calls a token active (RFC 7662 §2.2)
 * exactly when a refresh with it would be accepted. Rotation is the caller's to judge: a rotated
 * token may still be retried within the retry window, but is never active.
 */
export function refreshTokenRefusal(
  ctx: Context,
  token: RefreshTokenRecord,
  grant: GrantRecord | undefined,
  now: number,
): string | undefined {
  if (!grant || grant.revoked_at !== undefined) return 'The refresh token has been revoked.';
  if (token.expires_at <= now || grant.expires_at <= now) return 'The refresh token has expired.';
  if (grant.last_used_at + ctx.config.refreshTokenIdleTtl <= now) {
    return 'The refresh token expired after a long time unused.';
  }
  return undefined;
}

function liveGrant(
  ctx: Context,
  token: RefreshTokenRecord,
  grant: GrantRecord | undefined,
  now: number,
): GrantRecord {
  const refusal = refreshTokenRefusal(ctx, token, grant, now);
  if (refusal !== undefined || !grant) throw invalid(refusal ?? 'The refresh token has been revoked.');
  return grant;
}

/**
 * A refresh token presented again after it was rotated. Within the retry window, and while its
 * successor is unused, the retry gets the very same response (a lost response or parallel
 * refreshes must not log the user out). Otherwise it is reuse: the whole grant is revoked
 * (RFC 9700 §4.14.2).
 */
async function handleRotated(ctx: Context, token: RefreshTokenRecord, now: number): Promise<TokenResponse> {
  const successor = token.successor_hash ? await ctx.store.getRefreshToken(token.successor_hash) : undefined;
  const inWindow = token.rotated_at !== undefined && now - token.rotated_at <= ctx.config.refreshRetryWindow;
  if (inWindow && successor && successor.rotated_at === undefined && token.successor_response) {
    await ctx.audit({ type: 'refresh.retry', grant_id: token.grant_id, client_id: token.client_id });
    return JSON.parse(ctx.secrets.decrypt(token.successor_response, successorContext(token.token_hash)));
  }
  await ctx.audit({ type: 'refresh.reuse_detected', grant_id: token.grant_id, client_id: token.client_id });
  await ctx.revokeGrant(token.grant_id, 'refresh token reuse detected');
  throw invalid('The refresh token has already been used.');
}

/**
 * `grant_type=refresh_token` (RFC 6749 §6, OAuth 2.1 §4.3): rotated on every use.
 */
export async function refreshTokenGrant(
  ctx: Context,
  client: ClientRecord,
  form: Map<string, string>,
): Promise<TokenResponse> {
  const presented = form.get('refresh_token');
  if (!presented) throw new OAuthError('invalid_request', 'refresh_token is required.');
  // Malformed or mistyped tokens are refused without touching the store.
  if (!isWellFormedOpaqueToken(REFRESH_TOKEN_PREFIX, presented))
    throw invalid('The refresh token is invalid.');
  const now = ctx.now();
  const tokenHash = ctx.secrets.hash(presented);
  // The token and its grant in one read (one round trip on PostgreSQL).
  const found = await ctx.store.getRefreshTokenWithGrant(tokenHash);
  const token = found?.token;
  // Another client's token is reported exactly like an unknown one: nothing leaks about it.
  if (!token || token.client_id !== client.client_id) throw invalid('The refresh token is invalid.');
  const grant = liveGrant(ctx, token, found.grant, now);
  if (token.rotated_at !== undefined) return handleRotated(ctx, token, now);

  // A grant the user narrowed since this token was issued caps what the token still holds.
  const held = narrowScopes(parseScope(token.scope), parseScope(grant.scope));
  let scope = held;
  if (form.has('scope')) {
    const requested = parseScope(form.get('scope'));
    const wider = requested.find((s) => !held.some((h) => scopeCovers(h, s)));
    if (wider)
      throw new OAuthError(
        'invalid_scope',
        `The scope "${wider}" was not granted; a refresh may only narrow scope.`,
      );
    scope = requested;
  }
  const resource = form.get('resource');
  if (resource !== undefined && resource !== grant.resource) {
    throw new OAuthError('invalid_target', 'resource does not match the grant.');
  }

  const nextToken = createOpaqueToken(REFRESH_TOKEN_PREFIX);
  const response: TokenResponse = {
    ...(await accessTokenResponse(ctx, grant, scope, now)),
    refresh_token: nextToken,
  };
  // RFC 6749 §6: the new refresh token keeps the scope of the one it replaces (as narrowed).
  const successor: RefreshTokenRecord = {
    token_hash: ctx.secrets.hash(nextToken),
    grant_id: grant.id,
    client_id: client.client_id,
    scope: formatScope(held),
    created_at: now,
    expires_at: grant.expires_at,
  };
  const sealed = ctx.secrets.encrypt(JSON.stringify(response), successorContext(tokenHash));
  const result = await ctx.store.rotateRefreshToken(tokenHash, successor, sealed, now);
  if (result.status === 'not_found') throw invalid('The refresh token is invalid.');
  // The grant's user was disabled or removed: checked inside the rotation, at no extra cost.
  if (result.status === 'user_inactive') throw invalid('The refresh token is no longer valid.');
  // Lost the race to a parallel refresh of the same token: answer as its retry.
  if (result.status === 'already_rotated') return handleRotated(ctx, result.token, now);
  await ctx.audit({
    type: 'token.refreshed',
    grant_id: grant.id,
    client_id: client.client_id,
    user_id: grant.subject,
  });
  return response;
}

import { errorResponse, type IntrospectionResponse, jsonResponse, OAuthError } from '@gatehouse/core';
import { authenticateClient } from '../clients/authenticate.ts';
import type { Context } from '../context.ts';
import { readForm } from '../http/form.ts';
import { isWellFormedOpaqueToken, REFRESH_TOKEN_PREFIX } from '../tokens/opaque.ts';
import { verifyOwnAccessToken } from '../tokens/verify-access-token.ts';

const INACTIVE: IntrospectionResponse = { active: false };

async function introspect(ctx: Context, token: string): Promise<IntrospectionResponse> {
  const now = ctx.now();
  if (isWellFormedOpaqueToken(REFRESH_TOKEN_PREFIX, token)) {
    const record = await ctx.store.getRefreshToken(ctx.secrets.hash(token));
    if (!record || record.rotated_at !== undefined || record.expires_at <= now) return INACTIVE;
    const grant = await ctx.store.getGrant(record.grant_id);
    if (!grant || grant.revoked_at !== undefined) return INACTIVE;
    return {
      active: true,
      token_type: 'refresh_token',
      scope: record.scope,
      client_id: record.client_id,
      sub: grant.subject,
      aud: grant.resource,
      iss: ctx.config.issuer,
      iat: record.created_at,
      exp: record.expires_at,
    };
  }
  const claims = await verifyOwnAccessToken(ctx, token);
  if (!claims || ctx.revocations.isRevoked(claims)) return INACTIVE;
  const { iss, sub, aud, exp, iat, jti, client_id, scope } = claims;
  return { active: true, token_type: 'Bearer', scope, client_id, sub, aud, iss, exp, iat, jti };
}

/**
 * `POST /oauth/introspect` (RFC 7662 §2): for authenticated (confidential) callers only, such as
 * resource servers that receive tokens they cannot verify locally.
 */
export async function introspectEndpoint(ctx: Context, request: Request): Promise<Response> {
  try {
    if (request.method !== 'POST')
      throw new OAuthError('invalid_request', 'The introspection endpoint accepts POST only.');
    const form = await readForm(request);
    const caller = await authenticateClient(ctx, request, form);
    if (caller.token_endpoint_auth_method === 'none') {
      throw new OAuthError('invalid_client', 'Introspection needs an authenticated (confidential) client.', {
        status: 401,
      });
    }
    const token = form.get('token');
    if (!token) throw new OAuthError('invalid_request', 'token is required.');
    return jsonResponse(await introspect(ctx, token));
  } catch (err) {
    return errorResponse(err);
  }
}

import {
  formatBasicChallenge,
  formatScope,
  type IntrospectionResponse,
  jsonResponse,
  narrowScopes,
  OAuthError,
  parseScope,
} from '@gatehouse/core';
import { authenticateClient } from '../clients/authenticate.ts';
import type { Context } from '../context.ts';
import { refreshTokenRefusal } from '../grants/refresh-token.ts';
import { readForm } from '../http/form.ts';
import { isWellFormedOpaqueToken, REFRESH_TOKEN_PREFIX } from '../tokens/opaque.ts';
import { verifyOwnAccessToken } from '../tokens/verify-access-token.ts';

const INACTIVE: IntrospectionResponse = { active: false };

async function introspect(ctx: Context, token: string): Promise<IntrospectionResponse> {
  const now = ctx.now();
  if (isWellFormedOpaqueToken(REFRESH_TOKEN_PREFIX, token)) {
    const record = await ctx.store.getRefreshToken(ctx.secrets.hash(token));
    if (!record || record.rotated_at !== undefined) return INACTIVE;
    const grant = await ctx.store.getGrant(record.grant_id);
    // Active exactly when the token endpoint would accept it (revoked, expired, idle too long).
    if (!grant || refreshTokenRefusal(ctx, record, grant, now) !== undefined) return INACTIVE;
    if (await ctx.clients.isBlocked(record.client_id)) return INACTIVE;
    return {
      active: true,
      token_type: 'refresh_token',
      // What a refresh would issue now: the token's scope within what is left of a narrowed grant.
      scope: formatScope(narrowScopes(parseScope(record.scope), parseScope(grant.scope))),
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
  // A token of a client an administrator blocked is no longer active, as the token endpoint refuses it.
  if (await ctx.clients.isBlocked(claims.client_id)) return INACTIVE;
  const { iss, sub, aud, exp, iat, jti, client_id } = claims;
  // A grant narrowed since the token was issued caps what the token may still do, as at a guard.
  const cap = claims.gid === undefined ? undefined : ctx.revocations.narrowedScope(claims.gid);
  const scope = cap ? formatScope(narrowScopes(parseScope(claims.scope), cap)) : claims.scope;
  return { active: true, token_type: 'Bearer', scope, client_id, sub, aud, iss, exp, iat, jti };
}

/**
 * `POST /oauth/introspect` (RFC 7662 §2): for protected resources only (confidential clients an
 * administrator registered with `--resource-server`) that receive tokens they cannot verify locally.
 */
export async function introspectEndpoint(ctx: Context, request: Request): Promise<Response> {
  const form = await readForm(request);
  const caller = await authenticateClient(ctx, request, form);
  // RFC 7662 §4: only protected resources may introspect, or any registered client could probe
  // stolen tokens. A valid client that is not one gets what §2.3 prescribes for credentials that do
  // not authorize this call: 401 (as for a bearer token without sufficient privileges).
  if (caller.token_endpoint_auth_method === 'none' || caller.resource_server !== true) {
    // RFC 6749 §5.2: a 401 to a client that authenticated with the Authorization header carries
    // the challenge of the scheme it used.
    const challenge = request.headers.has('authorization')
      ? { 'www-authenticate': formatBasicChallenge(ctx.config.issuer) }
      : undefined;
    throw new OAuthError(
      'invalid_client',
      'Introspection is for protected resources registered as such (gatehouse clients add --resource-server).',
      { status: 401, headers: challenge },
    );
  }
  const token = form.get('token');
  if (!token) throw new OAuthError('invalid_request', 'token is required.');
  return jsonResponse(await introspect(ctx, token));
}

import { OAuthError, parseScope, scopeCovers, type TokenResponse } from '@gatehouse/core';
import type { Context } from '../context.ts';
import type { ClientRecord, GrantRecord } from '../store/types.ts';
import { issueTokens } from './issue.ts';

/**
 * `grant_type=client_credentials` (RFC 6749 §4.4): confidential clients only; `sub` is the client;
 * scope limited to what the client was registered for; no refresh token (§4.4.3).
 *
 * No grant row is written per request: a client-credentials "grant" is the client itself, so its
 * id is derived from the client id, and revoking it (or removing the client) cuts every token.
 */
export async function clientCredentialsGrant(
  ctx: Context,
  client: ClientRecord,
  form: Map<string, string>,
): Promise<TokenResponse> {
  if (client.token_endpoint_auth_method === 'none') {
    throw new OAuthError('unauthorized_client', 'Public clients cannot use client_credentials.');
  }
  let requested: string[];
  try {
    requested = parseScope(form.get('scope'));
  } catch {
    throw new OAuthError('invalid_scope', 'The scope parameter is malformed.');
  }
  const allowed = parseScope(client.scope);
  const scope = requested.length ? requested : allowed;
  const outside = scope.find((s) => !allowed.some((a) => scopeCovers(a, s)));
  if (outside) throw new OAuthError('invalid_scope', `This client is not registered for "${outside}".`);
  const resource = form.get('resource') ?? ctx.config.defaultResource;
  if (!ctx.config.resources.includes(resource)) {
    throw new OAuthError('invalid_target', 'This server does not issue tokens for the requested resource.');
  }
  const now = ctx.now();
  const grant: GrantRecord = {
    id: `cc:${client.client_id}`,
    client_id: client.client_id,
    subject: client.client_id,
    resource,
    scope: scope.join(' '),
    created_at: client.created_at,
    last_used_at: now,
    expires_at: now + ctx.config.accessTokenTtl,
  };
  await ctx.audit({
    type: 'token.issued',
    client_id: client.client_id,
    grant_id: grant.id,
    detail: { grant_type: 'client_credentials' },
  });
  return issueTokens(ctx, grant, scope, { refreshToken: false });
}

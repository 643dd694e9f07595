import { randomUUID } from 'node:crypto';
import { OAuthError, parseScope, type TokenResponse } from '@gatehouse/core';
import { checkScopeWithin, clientCredentialsLimit, defaultScope } from '../clients/scope-policy.ts';
import type { Context } from '../context.ts';
import type { ClientRecord, GrantRecord } from '../store/types.ts';
import { issueTokens } from './issue.ts';

/** A client-credentials grant is the client's standing authorization; it never expires by itself. */
const STANDING_GRANT_SECONDS = 10 * 365 * 86400;

/** Per store: the live client-credentials grant of each client and resource, known to this instance. */
const standingGrants = new WeakMap<object, Map<string, GrantRecord>>();

/**
 * The grant that a client's tokens for a resource belong to: one row per client and resource,
 * created on first use and again after a revocation, so that `gatehouse grants revoke` and
 * removing the client cut every token at once, like any other grant. Found in memory on the hot
 * path; the store is read only when there is no live grant, and then the client is re-read too,
 * so a removed client gets no new grant.
 */
async function standingGrant(ctx: Context, client: ClientRecord, resource: string): Promise<GrantRecord> {
  let grants = standingGrants.get(ctx.store);
  if (!grants) {
    grants = new Map();
    standingGrants.set(ctx.store, grants);
  }
  const key = `${client.client_id} ${resource}`;
  const known = grants.get(key);
  if (known && !ctx.revocations.isRevoked({ jti: '', gid: known.id })) return known;

  if (!(await ctx.clients.fresh(client.client_id))) {
    throw new OAuthError('invalid_client', 'The client is not registered with this server.');
  }
  const live = (await ctx.store.listGrants({ client_id: client.client_id, subject: client.client_id })).find(
    (g) => g.resource === resource,
  );
  const now = ctx.now();
  const grant: GrantRecord = live ?? {
    id: randomUUID(),
    client_id: client.client_id,
    subject: client.client_id,
    resource,
    scope: client.scope ?? '',
    created_at: now,
    last_used_at: now,
    expires_at: now + STANDING_GRANT_SECONDS,
  };
  if (!live) await ctx.store.createGrant(grant);
  grants.set(key, grant);
  return grant;
}

/**
 * `grant_type=client_credentials` (RFC 6749 §4.4): confidential clients only; `sub` is the client;
 * scope limited as clients/scope-policy.ts says; no refresh token (§4.4.3).
 */
export async function clientCredentialsGrant(
  ctx: Context,
  client: ClientRecord,
  form: Map<string, string>,
): Promise<TokenResponse> {
  if (client.token_endpoint_auth_method === 'none') {
    throw new OAuthError('unauthorized_client', 'Public clients cannot use client_credentials.');
  }
  // Nobody approves what client_credentials gets: a client that registered itself (DCR, or a
  // metadata document naming its own keys) gets such tokens only where the operator opted in.
  // Checked here, at every request, so switching the option off takes effect at once.
  if (client.kind !== 'preregistered' && !ctx.config.registration.clientCredentials) {
    throw new OAuthError(
      'unauthorized_client',
      'This server lets only clients its administrator registers use client_credentials.',
    );
  }
  const requested = parseScope(form.get('scope'));
  const scope = requested.length ? requested : defaultScope(client, ctx.config.defaultScopes);
  checkScopeWithin(scope, ctx.catalogue, clientCredentialsLimit(client));
  const resource = form.get('resource') ?? ctx.config.defaultResource;
  if (!ctx.config.resources.includes(resource)) {
    throw new OAuthError('invalid_target', 'This server does not issue tokens for the requested resource.');
  }
  const grant = await standingGrant(ctx, client, resource);
  ctx.audit({
    type: 'token.issued',
    client_id: client.client_id,
    grant_id: grant.id,
    detail: { grant_type: 'client_credentials' },
  });
  return issueTokens(ctx, grant, scope, { refreshToken: false });
}

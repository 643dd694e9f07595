import { formatScope, hasScope, parseScope, revocationExpiryForGrant, scopeCovers } from '@gatehouse/core';
import type { Context } from '../context.ts';
import type { GrantRecord } from '../store/types.ts';

/**
 * What a person (the user on their connected-apps page, or an administrator in the console) does to
 * a grant, in one place so both behave alike: revoking and narrowing, each audited with its actor.
 */

/**
 * Revokes a grant at once and everywhere (tokens already issued stop working within the revocation
 * feed's latency) and forgets the user's remembered consent, so the application must ask again
 * rather than silently getting a new grant. A client_credentials grant (its subject is the client)
 * has no consent to forget.
 */
export async function revokeGrantAndConsent(
  ctx: Context,
  grant: GrantRecord,
  reason: string,
  actor: string,
): Promise<void> {
  await ctx.revokeGrant(grant.id, reason, actor);
  if (grant.subject === grant.client_id) return;
  // A consent for no scope covers no request: the next authorization shows the consent screen.
  await ctx.store.saveConsent({
    user_id: grant.subject,
    client_id: grant.client_id,
    resource: grant.resource,
    scope: '',
    granted_at: ctx.now(),
  });
}

/**
 * Narrows a live grant to the scopes `kept` (a subset of its own). Guards learn of it as of a
 * revocation (the in-process list at once, others by the feed), and from the next request the
 * grant's tokens carry at most what is left; refreshes issue no more than that. The remembered
 * consent loses the removed scopes, so asking for them again shows the consent screen. Audited as
 * `grant.narrowed` with `actor`. Returns the grant's scope afterwards, or undefined when the grant
 * is missing or revoked.
 */
export async function narrowGrantTo(
  ctx: Context,
  grant: GrantRecord,
  kept: readonly string[],
  actor: string,
): Promise<string | undefined> {
  const now = ctx.now();
  const narrowed = await ctx.store.narrowGrant(
    grant.id,
    formatScope(kept),
    now,
    revocationExpiryForGrant(now),
  );
  if (narrowed === undefined) return undefined;
  const held = parseScope(grant.scope);
  const removed = held.filter((s) => !hasScope(parseScope(narrowed), s));
  if (removed.length > 0) {
    await ctx.revocations.sync();
    ctx.audit({
      type: 'grant.narrowed',
      grant_id: grant.id,
      client_id: grant.client_id,
      user_id: grant.subject === grant.client_id ? undefined : grant.subject,
      actor,
      detail: { removed: formatScope(removed), scope: narrowed },
    });
    await forgetConsent(ctx, grant, removed);
  }
  return narrowed;
}

/** The remembered consent minus `removed` (and anything above or below it in the hierarchy). */
async function forgetConsent(ctx: Context, grant: GrantRecord, removed: readonly string[]): Promise<void> {
  const consent = await ctx.store.getConsent(grant.subject, grant.client_id, grant.resource);
  if (!consent) return;
  const related = (c: string) => removed.some((r) => scopeCovers(r, c) || scopeCovers(c, r));
  const remembered = parseScope(consent.scope).filter((c) => !related(c));
  await ctx.store.saveConsent({ ...consent, scope: formatScope(remembered), granted_at: ctx.now() });
}

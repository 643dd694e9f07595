import { userInfo } from 'node:os';
import { revocationExpiryForGrant } from '@gatehouse/core';
import type { AuditEvent, Store } from '@gatehouse/server';

/** The admin commands' clock, in unix seconds. */
export const nowSeconds = (): number => Math.floor(Date.now() / 1000);

/** Who ran an admin command, for the audit log: `cli:<OS user>`. */
export function adminActor(): string {
  try {
    return `cli:${userInfo().username}`;
  } catch {
    // Containers may run as a uid with no passwd entry.
    return 'cli';
  }
}

/** Records an admin action in the audit log. */
export function auditAdmin(store: Store, event: Omit<AuditEvent, 'at' | 'actor'>): Promise<void> {
  return store.appendAudit({ ...event, at: nowSeconds(), actor: adminActor() });
}

/**
 * Revokes a grant from an admin command, as the server's `revokeGrant` does: the grant is marked
 * revoked and a revocation entry is written in one transaction; every running server sharing the
 * store picks the entry up within its 500 ms sync and passes it on through its revocation feed.
 * The entry lives as long as the longest access token the grant could have issued.
 * Returns false when the grant does not exist or was already revoked.
 */
export async function revokeGrantAsAdmin(store: Store, grantId: string, reason: string): Promise<boolean> {
  const now = nowSeconds();
  if (!(await store.revokeGrant(grantId, now, revocationExpiryForGrant(now)))) return false;
  const grant = await store.getGrant(grantId);
  await auditAdmin(store, {
    type: 'grant.revoked',
    grant_id: grantId,
    client_id: grant?.client_id,
    user_id: grant?.subject,
    detail: { reason },
  });
  return true;
}

/** A unix time as `2026-01-02 03:04:05Z`. */
export function formatTime(seconds: number | undefined): string {
  return seconds === undefined
    ? '-'
    : new Date(seconds * 1000).toISOString().replace('T', ' ').replace('.000Z', 'Z');
}

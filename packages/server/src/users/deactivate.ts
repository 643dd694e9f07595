import type { Store, UserRecord } from '../store/types.ts';

/**
 * What disabling or removing a user does, for the CLI and the admin console alike: a disabled or
 * removed user keeps nothing. Disabled first, so that no sign-in or new grant slips in between;
 * then their sessions end and every grant they made is revoked (through `revoke`, which each
 * caller audits its own way), and for a removal the account goes.
 */
export async function deactivateUser(
  store: Store,
  user: UserRecord,
  how: 'disabled' | 'removed',
  revoke: (grantId: string) => Promise<void>,
  /**
   * How a removed user's upstream connection goes: through the vault, which revokes its tokens at
   * the provider first (RFC 7009). Default: deleted from the store only, for callers without the
   * connections' configuration.
   */
  removeConnection: (provider: string) => Promise<unknown> = (provider) =>
    store.deleteConnection(user.id, provider),
): Promise<void> {
  await store.setUserDisabled(user.id, true);
  await store.deleteUserSessions(user.id);
  for (const grant of await store.listGrants({ subject: user.id })) await revoke(grant.id);
  if (how === 'removed') {
    // Their upstream tokens go with them (a disabled user's are refused by the vault already).
    for (const connection of await store.listConnections(user.id)) {
      // A revocation that cannot be done (an unreachable provider) does not keep the user.
      await removeConnection(connection.provider).catch(() =>
        store.deleteConnection(user.id, connection.provider),
      );
    }
    await store.deleteUser(user.id);
  }
}

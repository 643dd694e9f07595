import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { ConnectionRecord, Store } from './types.ts';

/** The store's part of the token vault: connections, and the lease that makes a refresh single-flight. */
export function connectionsStoreContract(name: string, open: () => Promise<Store>): void {
  describe(`store contract (token vault): ${name}`, () => {
    let store: Store;
    before(async () => {
      store = await open();
    });
    after(async () => {
      await store.close();
    });

    const connection = (userId: string, provider: string): ConnectionRecord => ({
      user_id: userId,
      provider,
      access_token_encrypted: `enc-at-${userId}`,
      refresh_token_encrypted: `enc-rt-${userId}`,
      expires_at: 2000,
      scope: 'repo',
      state: 'active',
      created_at: 1000,
      updated_at: 1000,
    });

    test('connections round-trip per (user, provider); a new connect replaces tokens and clears broken state', async () => {
      await store.saveConnection(connection('u1', 'github'));
      await store.saveConnection(connection('u2', 'github'));
      await store.saveConnection(connection('u1', 'jira'));
      assert.deepEqual(await store.getConnection('u1', 'github'), {
        ...connection('u1', 'github'),
        lease_until: undefined,
        lease_owner: undefined,
      });
      assert.equal(await store.getConnection('u3', 'github'), undefined);
      assert.deepEqual(
        (await store.listConnections('u1')).map((c) => c.provider),
        ['github', 'jira'],
      );
      assert.equal((await store.listConnections()).length, 3);

      assert.ok(await store.takeConnectionLease('u1', 'jira', 'i1', 1500, 1530));
      assert.ok(await store.finishConnectionRefresh('u1', 'jira', 'i1', { broken: true }, 1501));
      assert.equal((await store.getConnection('u1', 'jira'))?.state, 'broken');
      await store.saveConnection({
        ...connection('u1', 'jira'),
        access_token_encrypted: 'new',
        updated_at: 1600,
      });
      const again = await store.getConnection('u1', 'jira');
      assert.equal(again?.state, 'active');
      assert.equal(again?.access_token_encrypted, 'new');
      assert.equal(again?.created_at, 1000, 'a reconnect keeps when the connection was first made');

      assert.equal(await store.deleteConnection('u1', 'jira'), true);
      assert.equal(await store.deleteConnection('u1', 'jira'), false);
      assert.equal(await store.getConnection('u1', 'jira'), undefined);
    });

    test('the refresh lease: of 20 concurrent takers exactly one wins; it expires; only its owner writes', async () => {
      await store.saveConnection(connection('lease-user', 'github'));
      const takes = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          store.takeConnectionLease('lease-user', 'github', `i${i}`, 1500, 1530),
        ),
      );
      assert.equal(takes.filter(Boolean).length, 1);
      const owner = `i${takes.indexOf(true)}`;
      assert.equal((await store.getConnection('lease-user', 'github'))?.lease_owner, owner);

      // Not the owner: nothing written.
      assert.equal(
        await store.finishConnectionRefresh(
          'lease-user',
          'github',
          'other',
          { access_token_encrypted: 'x' },
          1510,
        ),
        false,
      );
      // The lease expired: another instance takes it, and the first owner can no longer write.
      assert.ok(await store.takeConnectionLease('lease-user', 'github', 'late', 1530, 1560));
      assert.equal(
        await store.finishConnectionRefresh(
          'lease-user',
          'github',
          owner,
          { access_token_encrypted: 'x' },
          1531,
        ),
        false,
      );
      assert.ok(
        await store.finishConnectionRefresh(
          'lease-user',
          'github',
          'late',
          { access_token_encrypted: 'fresh', expires_at: 5000 },
          1532,
        ),
      );
      const done = await store.getConnection('lease-user', 'github');
      assert.equal(done?.access_token_encrypted, 'fresh');
      assert.equal(
        done?.refresh_token_encrypted,
        'enc-rt-lease-user',
        'a refresh without a new refresh token keeps the old one',
      );
      assert.equal(done?.expires_at, 5000);
      assert.equal(done?.updated_at, 1532);
      assert.equal(done?.lease_owner, undefined);

      // Released without writing: the next caller may take it at once.
      assert.ok(await store.takeConnectionLease('lease-user', 'github', 'a', 1600, 1630));
      await store.releaseConnectionLease('lease-user', 'github', 'a');
      assert.ok(await store.takeConnectionLease('lease-user', 'github', 'b', 1600, 1630));
    });
  });
}

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { IdentityRecord, Store, UserRecord } from './types.ts';

/** The store's part of signing in with upstream identity providers: identities keyed by (provider, subject). */
export function identitiesStoreContract(name: string, open: () => Promise<Store>): void {
  describe(`store contract (identities): ${name}`, () => {
    let store: Store;
    before(async () => {
      store = await open();
    });
    after(async () => {
      await store.close();
    });

    const user = (id: string, username: string): UserRecord => ({
      id,
      username,
      password_hash: '',
      disabled: false,
      created_at: 1,
    });
    const identity = (provider: string, subject: string, userId: string, email?: string): IdentityRecord => ({
      provider,
      subject,
      user_id: userId,
      email,
      created_at: 2,
    });

    test('a first sign-in creates the user and its identity together; the pair finds the user', async () => {
      assert.equal(
        await store.createUserWithIdentity(
          user('i1', 'ida'),
          identity('kc', 'sub-1', 'i1', 'ida@example.com'),
        ),
        true,
      );
      assert.deepEqual(
        await store.getIdentity('kc', 'sub-1'),
        identity('kc', 'sub-1', 'i1', 'ida@example.com'),
      );
      assert.equal((await store.getUser('i1'))?.username, 'ida');
      assert.equal(await store.getIdentity('kc', 'sub-2'), undefined);
      assert.equal(await store.getIdentity('other', 'sub-1'), undefined);
    });

    test('of 10 concurrent first sign-ins of one identity exactly one provisions a user', async () => {
      const results = await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          store.createUserWithIdentity(user(`race-${i}`, `racer-${i}`), identity('kc', 'racer', `race-${i}`)),
        ),
      );
      assert.equal(results.filter(Boolean).length, 1);
      const winner = results.indexOf(true);
      assert.equal((await store.getIdentity('kc', 'racer'))?.user_id, `race-${winner}`);
      const users = (await store.listUsers()).filter((u) => u.username.startsWith('racer-'));
      assert.deepEqual(
        users.map((u) => u.id),
        [`race-${winner}`],
      );
    });

    test('identities are linked to existing users once, listed per user, unlinked, and removed with their user', async () => {
      await store.createUser(user('j1', 'jo'));
      assert.equal(await store.linkIdentity(identity('gh', '42', 'j1')), true);
      assert.equal(await store.linkIdentity(identity('kc', 'sub-9', 'j1')), true);
      // Already linked (to anyone): refused, the first link stays.
      assert.equal(await store.linkIdentity(identity('gh', '42', 'i1')), false);
      assert.equal((await store.getIdentity('gh', '42'))?.user_id, 'j1');
      assert.deepEqual(
        (await store.listIdentities('j1')).map((i) => `${i.provider}:${i.subject}`),
        ['gh:42', 'kc:sub-9'],
      );
      assert.ok((await store.listIdentities()).length >= 3);
      assert.equal(await store.unlinkIdentity('kc', 'sub-9'), true);
      assert.equal(await store.unlinkIdentity('kc', 'sub-9'), false);
      assert.equal(await store.deleteUser('j1'), true);
      assert.equal(await store.getIdentity('gh', '42'), undefined);
    });
  });
}

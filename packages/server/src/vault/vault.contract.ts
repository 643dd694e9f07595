import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createSecrets } from '../secrets.ts';
import type { Store } from '../store/types.ts';
import { startUpstreamAs, type UpstreamAs } from './upstream-as-kit.ts';
import { Vault } from './vault.ts';

/** A store for the vault tests, and everything it holds as raw text (file bytes, or rows). */
export interface VaultTestStore {
  store: Store;
  /** Two stores on the same data: two Gatehouse instances. */
  second(): Promise<Store>;
  raw(): Promise<string>;
}

/**
 * The token vault against a real upstream authorization server (oidc-provider on 127.0.0.1) and a
 * real store; run by each store's tests (SQLite here, PostgreSQL in store-postgres).
 */
export function vaultContract(name: string, open: () => Promise<VaultTestStore>): void {
  describe(`token vault: ${name}`, () => {
    let upstream: UpstreamAs;
    let data: VaultTestStore;
    let now = 1_800_000_000;
    const secrets = createSecrets('vault-test-master-secret-0123456789abcdef');
    const vaultOn = (store: Store) =>
      new Vault({
        store,
        secrets,
        issuer: 'http://127.0.0.1:1',
        now: () => now,
        connections: new Map([
          [
            'github',
            {
              issuer: upstream.issuer,
              authorizationEndpoint: `${upstream.issuer}/auth`,
              tokenEndpoint: `${upstream.issuer}/token`,
              revocationEndpoint: `${upstream.issuer}/token/revocation`,
              clientId: upstream.clientId,
              clientSecret: upstream.clientSecret,
              scopes: ['repo'],
            },
          ],
        ]),
      });
    const addUser = (id: string) =>
      data.store.createUser({ id, username: id, password_hash: 'x', disabled: false, created_at: 1 });

    before(async () => {
      upstream = await startUpstreamAs();
      data = await open();
    });
    after(async () => {
      await upstream.close();
    });

    test('RFC 6749 §6: 20 parallel accessToken() on an expired token, across two instances, make exactly one upstream refresh', async () => {
      await addUser('ann');
      const refreshToken = await upstream.seedRefreshToken('ann');
      const first = vaultOn(data.store);
      const second = vaultOn(await data.second());
      await first.save('ann', 'github', {
        access_token: 'expired-access-token',
        refresh_token: refreshToken,
        expires_in: 3600,
      });
      now += 3600; // expired
      const before = upstream.tokenRequests.get('refresh_token') ?? 0;
      const answers = await Promise.all(
        Array.from({ length: 20 }, (_, i) => (i % 2 ? second : first).accessToken('ann', 'github')),
      );
      assert.equal((upstream.tokenRequests.get('refresh_token') ?? 0) - before, 1);
      const tokens = new Set(answers.map((a) => ('token' in a ? a.token : JSON.stringify(a))));
      assert.equal(tokens.size, 1, 'every caller gets the one new token');
      const [token] = tokens;
      assert.notEqual(token, 'expired-access-token');
      assert.ok(await upstream.isActive(token as string));
      // Fresh now: no further refresh.
      assert.deepEqual(await first.accessToken('ann', 'github'), { token });
      assert.equal((upstream.tokenRequests.get('refresh_token') ?? 0) - before, 1);
    });

    test('RFC 6749 §5.2: a refresh refused with invalid_grant marks the connection broken, naming the connect page', async () => {
      await addUser('bob');
      const vault = vaultOn(data.store);
      await vault.save('bob', 'github', {
        access_token: 'old',
        refresh_token: 'not-a-token-the-upstream-knows',
        expires_in: 10,
      });
      now += 3600;
      const broken = { broken: 'http://127.0.0.1:1/connect/github' };
      assert.deepEqual(await vault.accessToken('bob', 'github'), broken);
      const requests = upstream.tokenRequests.get('refresh_token');
      assert.deepEqual(await vault.accessToken('bob', 'github'), broken, 'broken stays broken');
      assert.equal(
        upstream.tokenRequests.get('refresh_token'),
        requests,
        'without asking the upstream again',
      );
      assert.equal((await data.store.getConnection('bob', 'github'))?.state, 'broken');
      // A new connect repairs it.
      await vault.save('bob', 'github', { access_token: 'new-access', expires_in: 3600 });
      assert.deepEqual(await vault.accessToken('bob', 'github'), { token: 'new-access' });
    });

    test('no connection, or a disabled user: the answer names the connect page and holds no token', async () => {
      await addUser('cy');
      const vault = vaultOn(data.store);
      assert.deepEqual(await vault.accessToken('cy', 'github'), {
        missing: 'http://127.0.0.1:1/connect/github',
      });
      await vault.save('cy', 'github', { access_token: 'cy-token' });
      assert.deepEqual(await vault.accessToken('cy', 'github'), { token: 'cy-token' });
      await data.store.setUserDisabled('cy', true);
      assert.deepEqual(await vault.accessToken('cy', 'github'), {
        missing: 'http://127.0.0.1:1/connect/github',
      });
    });

    test('tokens are bound to their user: a ciphertext copied to another user does not decrypt', async () => {
      await addUser('dee');
      await addUser('eve');
      const vault = vaultOn(data.store);
      await vault.save('dee', 'github', { access_token: 'dee-secret-token' });
      await vault.save('eve', 'github', { access_token: 'eve-token' });
      const dee = await data.store.getConnection('dee', 'github');
      const eve = await data.store.getConnection('eve', 'github');
      await data.store.saveConnection({
        ...(eve as NonNullable<typeof eve>),
        access_token_encrypted: dee?.access_token_encrypted as string,
      });
      await assert.rejects(vault.accessToken('eve', 'github'));
    });

    test('RFC 7009 §2: removing a connection revokes its upstream tokens and deletes it', async () => {
      await addUser('fay');
      const refreshToken = await upstream.seedRefreshToken('fay');
      const vault = vaultOn(data.store);
      await vault.save('fay', 'github', {
        access_token: 'fay-access',
        refresh_token: refreshToken,
        expires_in: 3600,
      });
      assert.ok(await upstream.isActive(refreshToken));
      assert.equal(await vault.remove('fay', 'github'), true);
      assert.equal(await upstream.isActive(refreshToken), false);
      assert.equal(await data.store.getConnection('fay', 'github'), undefined);
      assert.equal(await vault.remove('fay', 'github'), false);
    });

    test('upstream tokens are encrypted at rest: no plaintext access or refresh token in the store', async () => {
      await addUser('gus');
      const refreshToken = await upstream.seedRefreshToken('gus');
      const vault = vaultOn(data.store);
      const access = 'gus-plaintext-access-token-0123456789';
      await vault.save('gus', 'github', {
        access_token: access,
        refresh_token: refreshToken,
        expires_in: 100,
      });
      now += 3600;
      const refreshed = await vault.accessToken('gus', 'github');
      assert.ok('token' in refreshed);
      const raw = await data.raw();
      assert.ok(raw.includes('gus'), 'the dump holds the rows');
      for (const secret of [access, refreshToken, refreshed.token]) assert.equal(raw.includes(secret), false);
    });
  });
}

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { ClientRecord, Store } from './types.ts';

/** The store's part of the admin console: the admin role, blocked clients, blocked CIMD hosts. */
export function adminStoreContract(name: string, open: () => Promise<Store>): void {
  describe(`store contract (admin console): ${name}`, () => {
    let store: Store;
    before(async () => {
      store = await open();
    });
    after(async () => {
      await store.close();
    });

    const client = (id: string, kind: ClientRecord['kind']): ClientRecord => ({
      client_id: id,
      kind,
      client_name: `App ${id}`,
      redirect_uris: ['http://127.0.0.1/callback'],
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code'],
      created_at: 1000,
    });

    test('the admin role is off for a new user, set by add --admin, granted and taken away', async () => {
      await store.createUser({
        id: 'a1',
        username: 'ann',
        password_hash: 'x',
        disabled: false,
        created_at: 1,
      });
      await store.createUser({
        id: 'a2',
        username: 'bob',
        password_hash: 'x',
        disabled: false,
        admin: true,
        created_at: 1,
      });
      assert.equal((await store.getUser('a1'))?.admin, undefined);
      assert.equal((await store.getUserByName('bob'))?.admin, true);
      assert.ok(await store.setUserAdmin('a1', true));
      assert.equal((await store.listUsers()).find((u) => u.id === 'a1')?.admin, true);
      assert.ok(await store.setUserAdmin('a1', false));
      assert.equal((await store.getUser('a1'))?.admin, undefined);
      assert.equal(await store.setUserAdmin('nobody', true), false);
    });

    test('a blocked client stays blocked in its own column, which registration metadata cannot set', async () => {
      await store.createClient(client('dcr-1', 'dcr'));
      assert.equal((await store.getClient('dcr-1'))?.blocked, undefined);
      assert.ok(await store.setClientBlocked('dcr-1', true));
      assert.equal((await store.getClient('dcr-1'))?.blocked, true);
      assert.equal((await store.listClients()).find((c) => c.client_id === 'dcr-1')?.blocked, true);
      assert.ok(await store.setClientBlocked('dcr-1', false));
      assert.equal((await store.getClient('dcr-1'))?.blocked, undefined);
      assert.equal(await store.setClientBlocked('missing', true), false);
    });

    test('blocked hosts are listed, checked, idempotent to block and removable', async () => {
      await store.blockHost({ host: 'apps.example', blocked_at: 50, blocked_by: 'a2' });
      await store.blockHost({ host: 'apps.example', blocked_at: 99 });
      await store.blockHost({ host: 'b.example', blocked_at: 60 });
      assert.equal(await store.isHostBlocked('apps.example'), true);
      assert.equal(await store.isHostBlocked('other.example'), false);
      assert.deepEqual(await store.listBlockedHosts(), [
        { host: 'apps.example', blocked_at: 50, blocked_by: 'a2' },
        { host: 'b.example', blocked_at: 60, blocked_by: undefined },
      ]);
      assert.ok(await store.unblockHost('apps.example'));
      assert.equal(await store.unblockHost('apps.example'), false);
      assert.equal(await store.isHostBlocked('apps.example'), false);
    });

    test("a client's last use is the latest last_used_at of its grants", async () => {
      await store.createClient(client('used', 'preregistered'));
      for (const [id, at] of [
        ['g-1', 2000],
        ['g-2', 3000],
      ] as const) {
        await store.createGrant({
          id,
          client_id: 'used',
          subject: 'a1',
          resource: 'https://mcp.example/mcp',
          scope: 'tools:list',
          created_at: 1000,
          last_used_at: at,
          expires_at: 90_000,
        });
      }
      const lastUsed = await store.clientsLastUsed();
      assert.equal(lastUsed.get('used'), 3000);
      assert.equal(lastUsed.has('dcr-1'), false);
    });
  });
}

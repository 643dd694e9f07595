import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createAuthorizationServer } from '@gatehouse/server';
import { withTestDatabase } from '../src/testing.ts';

const masterSecret = 'm'.repeat(43);
const now = () => 1_800_000_000;

await withTestDatabase((db) => {
  test('five instances starting at once on an empty schema create one signing key and publish the same JWKS', {
    timeout: 20_000,
  }, async (t) => {
    const schema = db.newSchema();
    // Migrate first so that the race is the key creation, not the (already serialized) migration.
    const stores = await Promise.all(Array.from({ length: 5 }, () => db.open(schema, 2)));
    const servers = await Promise.all(
      stores.map((store) =>
        createAuthorizationServer({ issuer: 'http://127.0.0.1:9', store, masterSecret, now }),
      ),
    );
    t.after(() => Promise.all(servers.map((s) => s.close())));
    const keys = (await db.admin.query(`SELECT kid FROM ${schema}.signing_keys`)).rows;
    assert.equal(keys.length, 1);
    for (const as of servers) {
      const jwks = (await (
        await as.fetch(new Request('http://127.0.0.1:9/.well-known/jwks.json'))
      ).json()) as {
        keys: { kid: string }[];
      };
      assert.deepEqual(
        jwks.keys.map((k) => k.kid),
        [keys[0]?.kid],
      );
    }
  });

  test('two authorization server instances on one schema publish the same keys and share revocations at once', {
    timeout: 20_000,
  }, async (t) => {
    const schema = db.newSchema();
    const stores = [await db.open(schema, 2), await db.open(schema, 2)] as const;
    const [a, b] = [
      await createAuthorizationServer({ issuer: 'http://127.0.0.1:9', store: stores[0], masterSecret, now }),
      await createAuthorizationServer({ issuer: 'http://127.0.0.1:9', store: stores[1], masterSecret, now }),
    ];
    t.after(() => Promise.all([a.close(), b.close()]));

    const jwks = async (as: typeof a) =>
      (await as.fetch(new Request('http://127.0.0.1:9/.well-known/jwks.json'))).json();
    assert.deepEqual(await jwks(a), await jwks(b), 'keys live in the store, not in the instance');

    await stores[0].createGrant({
      id: 'g-shared',
      client_id: 'c1',
      subject: 'u1',
      resource: 'http://127.0.0.1:9/mcp',
      scope: 'tools:list',
      created_at: now(),
      last_used_at: now(),
      expires_at: now() + 86400,
    });
    // The wiring an instance needs: sync its revocation list whenever the store announces one.
    let synced!: () => void;
    const announced = new Promise<void>((resolve) => {
      synced = resolve;
    });
    await stores[1].subscribeRevocations(() => void b.revocations.sync().then(synced));
    assert.equal(b.revocations.isRevoked({ jti: 'j', gid: 'g-shared' }), false);
    await a.context.revokeGrant('g-shared', 'test');
    await announced;
    assert.equal(b.revocations.isRevoked({ jti: 'j', gid: 'g-shared' }), true);
  });
});

import assert from 'node:assert/strict';
import { type TestContext, test } from 'node:test';
import type { PostgresStore } from './store.ts';
import { withTestDatabase } from './testing.ts';

/** Twenty authorization server instances: twenty stores, each with its own single connection. */
const INSTANCES = 20;

await withTestDatabase((db) => {
  /**
   * Opens the instances and warms each connection, so the race starts with every one connected;
   * closes them when the test ends, so the test files together stay well under max_connections.
   */
  async function instances(t: TestContext, schema: string): Promise<PostgresStore[]> {
    const stores: PostgresStore[] = [];
    t.after(() => Promise.all(stores.map((s) => s.close())));
    for (let i = 0; i < INSTANCES; i++) stores.push(await db.open(schema, 1));
    await Promise.all(stores.map((s) => s.listClients()));
    return stores;
  }

  test('RFC 6749 §4.1.2: one code redeemed at once by 20 instances on 20 connections is redeemed exactly once', async (t) => {
    const schema = db.newSchema();
    const stores = await instances(t, schema);
    const [first] = stores as [PostgresStore];
    await first.createUser({ id: 'u1', username: 'ada', password_hash: 'x', disabled: false, created_at: 1 });
    await first.saveCode({
      code_hash: 'race-code',
      client_id: 'c1',
      user_id: 'u1',
      redirect_uri: 'http://127.0.0.1/cb',
      code_challenge: 'x'.repeat(43),
      resource: 'https://mcp.example/mcp',
      scope: 'tools:list',
      expires_at: 2000,
    });
    const times = { created_at: 1500, last_used_at: 1500, expires_at: 9000 };
    const results = await Promise.all(
      stores.map((store, i) => store.redeemCode('race-code', { id: `grant-${i}`, ...times }, 1500)),
    );
    const redeemed = results.filter((r) => r.status === 'redeemed');
    assert.equal(redeemed.length, 1, 'exactly one instance wins');
    const winner = redeemed[0]?.status === 'redeemed' ? redeemed[0].code.grant_id : undefined;
    for (const r of results) {
      assert.notEqual(r.status, 'not_found');
      if (r.status === 'replayed')
        assert.equal(r.code.grant_id, winner, 'every loser learns the grant to revoke');
    }
    assert.deepEqual(
      (await first.listGrants({ include_revoked: true })).map((g) => g.id),
      [winner],
      'one grant, the winner’s',
    );
  });

  test('OAuth 2.1 §4.3.1: one refresh token rotated at once by 20 instances gets exactly one live successor', async (t) => {
    const schema = db.newSchema();
    const stores = await instances(t, schema);
    const base = { grant_id: 'g', client_id: 'c1', scope: 'tools:list', created_at: 1, expires_at: 99999 };
    const [first] = stores as [PostgresStore];
    await first.createUser({ id: 'u1', username: 'ada', password_hash: 'x', disabled: false, created_at: 1 });
    await first.createGrant({
      id: 'g',
      client_id: 'c1',
      subject: 'u1',
      resource: 'https://mcp.example/mcp',
      scope: 'tools:list',
      created_at: 1,
      last_used_at: 1,
      expires_at: 99999,
    });
    await first.saveRefreshToken({ ...base, token_hash: 'rt-0' });
    const results = await Promise.all(
      stores.map((store, i) =>
        store.rotateRefreshToken('rt-0', { ...base, token_hash: `rt-1-${i}` }, `response-${i}`, 10),
      ),
    );
    assert.equal(results.filter((r) => r.status === 'rotated').length, 1);
    const winner = results.findIndex((r) => r.status === 'rotated');
    for (const r of results) {
      if (r.status === 'already_rotated') {
        assert.equal(r.token.successor_hash, `rt-1-${winner}`);
        assert.equal(r.token.successor_response, `response-${winner}`, 'a retry gets the same response');
      }
    }
    const { rows } = await db.admin.query(
      `SELECT token_hash FROM ${schema}.refresh_tokens WHERE grant_id = 'g'`,
    );
    assert.deepEqual(rows.map((r) => r.token_hash).sort(), ['rt-0', `rt-1-${winner}`].sort());
  });

  test('consent: one interaction taken at once by 20 instances is taken exactly once', async (t) => {
    const schema = db.newSchema();
    const stores = await instances(t, schema);
    await stores[0]?.saveInteraction({ id: 'i1', request: '{}', expires_at: 100 });
    const taken = await Promise.all(stores.map((store) => store.takeInteraction('i1', 50)));
    assert.equal(taken.filter((r) => r !== undefined).length, 1);
  });

  test('a code redeemed while `users disable` is in flight: the disable comes first and the code makes no grant', async (t) => {
    const schema = db.newSchema();
    const store = await db.open(schema, 1);
    t.after(() => store.close());
    await store.createUser({ id: 'u1', username: 'ada', password_hash: 'x', disabled: false, created_at: 1 });
    await store.saveCode({
      code_hash: 'in-flight',
      client_id: 'c1',
      user_id: 'u1',
      redirect_uri: '',
      code_challenge: 'x'.repeat(43),
      resource: 'https://mcp.example/mcp',
      scope: 'tools:list',
      expires_at: 2000,
    });
    // Another instance disables the user and has not committed yet when the code is redeemed.
    const admin = await db.admin.connect();
    try {
      await admin.query('BEGIN');
      await admin.query(`UPDATE ${schema}.users SET disabled = true WHERE id = 'u1'`);
      const times = { created_at: 1500, last_used_at: 1500, expires_at: 9000 };
      let settled = false;
      const redemption = store.redeemCode('in-flight', { id: 'g1', ...times }, 1500);
      const settle = () => {
        settled = true;
      };
      redemption.then(settle, settle);
      // The redemption must wait for the disable rather than read the user as it was before it;
      // one that does not wait settles first, and the assertion below reports it.
      while (!settled) {
        const { rows } = await db.admin.query(
          `SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE '%authorization_codes%'`,
        );
        if (rows.length > 0) break;
        await new Promise((resolve) => setImmediate(resolve));
      }
      await admin.query('COMMIT');
      assert.deepEqual(await redemption, { status: 'user_inactive' });
      assert.deepEqual(await store.listGrants({ include_revoked: true }), []);
    } finally {
      admin.release();
    }
  });

  test('revocation feed: entries written concurrently by 20 instances are all seen by a reader resuming from its last seq', async (t) => {
    const schema = db.newSchema();
    const stores = await instances(t, schema);
    const reader = await db.open(schema, 1);
    t.after(() => reader.close());
    const seen = new Set<string>();
    let last = 0;
    let writing = true;
    // The reader polls as an AS instance does, never re-reading below the last seq it saw: if
    // entries became visible out of seq order, it would skip some for good.
    const polling = (async () => {
      while (writing) {
        for (const entry of await reader.listRevocations(last, 0)) {
          seen.add(entry.jti as string);
          last = entry.seq;
        }
      }
    })();
    await Promise.all(
      stores.flatMap((store, i) =>
        Array.from({ length: 5 }, (_, j) => store.revokeAccessToken(`jti-${i}-${j}`, 5000)),
      ),
    );
    writing = false;
    await polling;
    for (const entry of await reader.listRevocations(last, 0)) seen.add(entry.jti as string);
    assert.equal(seen.size, INSTANCES * 5);
  });
});

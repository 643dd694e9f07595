import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { PostgresStore } from './store.ts';
import { withTestDatabase } from './testing.ts';

/** Counts calls and lets a test await the n-th one, instead of sleeping. */
function counter() {
  let count = 0;
  let waiters: { target: number; resolve: () => void }[] = [];
  return {
    hit() {
      count++;
      for (const w of waiters.filter((w) => count >= w.target)) w.resolve();
      waiters = waiters.filter((w) => count < w.target);
    },
    get count() {
      return count;
    },
    reached(target: number): Promise<void> {
      return count >= target
        ? Promise.resolve()
        : new Promise((resolve) => waiters.push({ target, resolve }));
    },
  };
}

const grant = (id: string) => ({
  id,
  client_id: 'c1',
  subject: 'u1',
  resource: 'https://mcp.example/mcp',
  scope: 'tools:list',
  created_at: 1,
  last_used_at: 1,
  expires_at: 99999,
});

await withTestDatabase((db) => {
  /** An AS instance that listens, and another that writes, sharing one schema. */
  async function pair(schema = db.newSchema()): Promise<[PostgresStore, PostgresStore]> {
    return [await db.open(schema, 2), await db.open(schema, 2)];
  }

  test('revocation propagation: another instance’s grant revocation is announced once it is visible', {
    timeout: 10_000,
  }, async () => {
    const [listener, writer] = await pair();
    const calls = counter();
    const reads: Promise<boolean>[] = [];
    await listener.subscribeRevocations(() => {
      calls.hit();
      reads.push(listener.listRevocations(0, 0).then((entries) => entries.some((e) => e.grant_id === 'g1')));
    });
    await writer.createGrant(grant('g1'));
    assert.equal(await writer.revokeGrant('g1', 10, 5000), true);
    await calls.reached(1);
    assert.equal(await reads[0], true, 'NOTIFY is delivered at commit, after the entry is readable');
  });

  test('revocation propagation: access-token revocations are announced; a no-op revocation is not', {
    timeout: 10_000,
  }, async () => {
    const [listener, writer] = await pair();
    const calls = counter();
    await listener.subscribeRevocations(() => calls.hit());
    assert.equal(await writer.revokeGrant('no-such-grant', 10, 5000), false);
    await writer.revokeAccessToken('jti-1', 5000);
    // Notifications arrive in commit order: had the no-op notified, that would have been first.
    await calls.reached(1);
    await writer.revokeAccessToken('jti-2', 5000);
    await calls.reached(2);
    assert.equal(calls.count, 2);
  });

  test('revocation propagation: deployments in other schemas of the same database are ignored', {
    timeout: 10_000,
  }, async () => {
    const [listener, writer] = await pair();
    const [, elsewhere] = await pair();
    const calls = counter();
    await listener.subscribeRevocations(() => calls.hit());
    await elsewhere.revokeAccessToken('other-schema', 5000);
    await writer.revokeAccessToken('this-schema', 5000);
    await calls.reached(1);
    assert.equal(calls.count, 1, 'only this schema’s revocation was announced');
  });

  test('revocation propagation: unsubscribing stops the calls and closing the store ends every subscription', {
    timeout: 10_000,
  }, async () => {
    const schema = db.newSchema();
    const [listener, writer] = await pair(schema);
    const stopped = counter();
    const active = counter();
    const stop = await listener.subscribeRevocations(() => stopped.hit());
    await listener.subscribeRevocations(() => active.hit());
    await writer.revokeAccessToken('a', 5000);
    await Promise.all([stopped.reached(1), active.reached(1)]);
    await stop();
    await writer.revokeAccessToken('b', 5000);
    await active.reached(2);
    assert.equal(stopped.count, 1);
    const sentinel = counter();
    await writer.subscribeRevocations(() => sentinel.hit());
    await listener.close();
    await writer.revokeAccessToken('c', 5000);
    await sentinel.reached(1);
    assert.equal(active.count, 2, 'closing the store ended its subscriptions');
    await assert.rejects(
      listener.subscribeRevocations(() => {}),
      /closed/,
    );
  });

  test('revocation propagation: a lost listening connection reconnects and triggers a catch-up sync', {
    timeout: 10_000,
  }, async () => {
    const [listener, writer] = await pair();
    const calls = counter();
    const pids: number[] = [];
    const listening = counter();
    const errors: Error[] = [];
    await listener.subscribeRevocations(() => calls.hit(), {
      reconnectDelayMs: 0,
      onListening: (pid) => {
        pids.push(pid);
        listening.hit();
      },
      onError: (err) => errors.push(err),
    });
    assert.equal(pids.length, 1);
    await db.admin.query('SELECT pg_terminate_backend($1)', [pids[0]]);
    await listening.reached(2);
    await calls.reached(1);
    assert.notEqual(pids[1], pids[0], 'a new connection');
    assert.ok(errors.length >= 1, 'the loss was reported');
    await writer.revokeAccessToken('after-reconnect', 5000);
    await calls.reached(2);
  });
});

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { AuditEvent, Store } from './types.ts';

/**
 * The filtered audit query every store must answer alike (`Store.queryAudit`): part of the store
 * contract, on a store of its own so other contract tests' events do not interfere.
 */
export function auditQueryContract(name: string, open: () => Promise<Store>): void {
  describe(`store contract: ${name}: filtered audit query`, () => {
    let store: Store;
    const call = (at: number, user: string, server: string, tool: string, outcome: string): AuditEvent => ({
      at,
      type: 'mcp.call',
      user_id: user,
      client_id: 'agent',
      detail: { server, method: 'tools/call', name: tool, outcome, duration_ms: 3 },
    });
    before(async () => {
      store = await open();
      await store.appendAuditEvents([
        { at: 100, type: 'login', user_id: 'ann', detail: { ip: '127.0.0.1' } },
        call(110, 'ann', 'files', 'read_file', 'allowed'),
        call(120, 'ann', 'files', 'write_file', 'denied'),
        call(130, 'bob', 'files', 'read_file', 'allowed'),
        call(140, 'bob', "db'; --", 'query', 'upstream_error'),
        { at: 150, type: 'grant.revoked', actor: 'root', grant_id: 'g1', detail: { reason: 'by admin' } },
        { at: 160, type: 'token.issued', user_id: 'ann', client_id: 'notes' },
      ]);
    });
    after(async () => {
      await store.close();
    });
    const types = (events: AuditEvent[]) => events.map((e) => `${e.type}@${e.at}`);

    test('no filter: every event, newest first', async () => {
      const events = await store.queryAudit({});
      assert.equal(events.length, 7);
      assert.deepEqual(
        events.map((e) => e.at),
        [160, 150, 140, 130, 120, 110, 100],
      );
      assert.deepEqual(events[6]?.detail, { ip: '127.0.0.1' });
    });

    test('user, client, actor and type each filter on their column', async () => {
      assert.deepEqual(types(await store.queryAudit({ user_id: 'ann' })), [
        'token.issued@160',
        'mcp.call@120',
        'mcp.call@110',
        'login@100',
      ]);
      assert.deepEqual(types(await store.queryAudit({ client_id: 'notes' })), ['token.issued@160']);
      assert.deepEqual(types(await store.queryAudit({ actor: 'root' })), ['grant.revoked@150']);
      assert.deepEqual(types(await store.queryAudit({ type: 'login' })), ['login@100']);
      assert.deepEqual(await store.queryAudit({ user_id: 'nobody' }), []);
    });

    test("server, tool and outcome filter on the gateway's mcp.call detail, ANDed with the rest", async () => {
      assert.deepEqual(types(await store.queryAudit({ server: 'files' })), [
        'mcp.call@130',
        'mcp.call@120',
        'mcp.call@110',
      ]);
      assert.deepEqual(types(await store.queryAudit({ server: 'files', tool: 'read_file' })), [
        'mcp.call@130',
        'mcp.call@110',
      ]);
      assert.deepEqual(types(await store.queryAudit({ tool: 'read_file', user_id: 'ann' })), [
        'mcp.call@110',
      ]);
      assert.deepEqual(types(await store.queryAudit({ outcome: 'denied' })), ['mcp.call@120']);
      // A value is bound, never spliced into the statement.
      assert.deepEqual(types(await store.queryAudit({ server: "db'; --" })), ['mcp.call@140']);
    });

    test('since is inclusive, until exclusive; before pages by id; the limit is bounded', async () => {
      assert.deepEqual(
        (await store.queryAudit({ since: 120, until: 140 })).map((e) => e.at),
        [130, 120],
      );
      const first = await store.queryAudit({ limit: 3 });
      assert.deepEqual(
        first.map((e) => e.at),
        [160, 150, 140],
      );
      const next = await store.queryAudit({ limit: 3, before: first.at(-1)?.id });
      assert.deepEqual(
        next.map((e) => e.at),
        [130, 120, 110],
      );
      assert.equal((await store.queryAudit({ limit: 0 })).length, 1, 'at least one');
      assert.equal((await store.queryAudit({ limit: Number.NaN })).length, 7, 'the default');
    });
  });
}

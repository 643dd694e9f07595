import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, test } from 'node:test';
import { auditQuerySql, SQLITE_AUDIT } from './audit-query.ts';
import { SqliteStore } from './sqlite.ts';

const dir = mkdtempSync(join(tmpdir(), 'gatehouse-audit-query-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('SQLite: the audit filters by user, client and gateway server read an index, not the whole trail', async () => {
  const path = join(dir, 'plan.db');
  await new SqliteStore(path).close();
  const db = new DatabaseSync(path);
  const plan = (query: Parameters<typeof auditQuerySql>[0]) => {
    const { sql, params } = auditQuerySql(query, SQLITE_AUDIT);
    return (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...(params as string[])) as { detail: string }[])
      .map((row) => row.detail)
      .join('; ');
  };
  assert.match(plan({ user_id: 'u' }), /USING INDEX audit_events_user/);
  assert.match(plan({ client_id: 'c' }), /USING INDEX audit_events_client/);
  assert.match(plan({ server: 'files', tool: 'read_file' }), /USING INDEX audit_events_server/);
  db.close();
});

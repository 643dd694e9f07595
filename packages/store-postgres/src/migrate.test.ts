import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Pool } from 'pg';
import { migrate } from './migrate.ts';
import { postgresMigrations } from './migrations.ts';
import { resolvePoolConfig } from './options.ts';
import { withTestDatabase } from './testing.ts';

await withTestDatabase((db) => {
  const poolFor = (schema: string) => {
    const pool = new Pool(resolvePoolConfig({ connectionString: db.url, schema, maxConnections: 1 }).pool);
    pool.on('error', () => {});
    return pool;
  };
  const versions = async (schema: string) =>
    (await db.admin.query(`SELECT version FROM ${schema}.gatehouse_migrations ORDER BY version`)).rows.map(
      (r) => Number(r.version),
    );

  test('migrations: two instances starting at once on an empty schema both succeed, and each version runs once', async () => {
    const schema = db.newSchema();
    const pools = [poolFor(schema), poolFor(schema)];
    try {
      const results = await Promise.allSettled(pools.map((pool) => migrate(pool, schema)));
      assert.deepEqual(
        results.map((r) => r.status),
        ['fulfilled', 'fulfilled'],
        String(results.map((r) => (r.status === 'rejected' ? r.reason : '')).join(' ')),
      );
      assert.deepEqual(
        results.map((r) => (r.status === 'fulfilled' ? r.value : 0)),
        [postgresMigrations.length, postgresMigrations.length],
      );
      assert.deepEqual(
        await versions(schema),
        postgresMigrations.map((_, i) => i + 1),
      );
    } finally {
      await Promise.all(pools.map((pool) => pool.end()));
    }
  });

  test('migrations: ten stores opening one schema concurrently all work on the same tables', async () => {
    const schema = db.newSchema();
    const stores = await Promise.all(Array.from({ length: 10 }, () => db.open(schema, 1)));
    await Promise.all(stores.map((store, i) => store.appendAudit({ at: i, type: 'boot' })));
    assert.equal((await stores[0]?.listAudit({ limit: 100 }))?.length, 10);
    assert.equal((await versions(schema)).length, postgresMigrations.length);
  });

  test('migrations: a reopened schema keeps its data and runs nothing again', async () => {
    const schema = db.newSchema();
    const first = await db.open(schema);
    await first.appendAudit({ at: 1, type: 'boot' });
    await first.close();
    const second = await db.open(schema);
    assert.equal((await second.listAudit({})).length, 1);
    assert.equal((await versions(schema)).length, postgresMigrations.length);
  });

  test('migrations: a failing version rolls back entirely and leaves the schema at its previous version', async () => {
    const schema = db.newSchema();
    const pool = poolFor(schema);
    try {
      assert.equal(await migrate(pool, schema), postgresMigrations.length);
      const broken = [...postgresMigrations, 'CREATE TABLE half_done (id TEXT); SELECT no_such_function();'];
      await assert.rejects(migrate(pool, schema, broken), /no_such_function/);
      assert.equal((await versions(schema)).length, postgresMigrations.length);
      const { rows } = await db.admin.query(
        "SELECT count(*) AS n FROM information_schema.tables WHERE table_schema = $1 AND table_name = 'half_done'",
        [schema],
      );
      assert.equal(Number(rows[0]?.n), 0, 'DDL is transactional: the half-applied version left nothing');
    } finally {
      await pool.end();
    }
  });

  test('migrations: the tables use BIGINT times and JSONB documents', async () => {
    const schema = db.newSchema();
    await db.open(schema);
    const { rows } = await db.admin.query(
      `SELECT table_name, column_name, data_type FROM information_schema.columns
       WHERE table_schema = $1 AND (column_name LIKE '%\\_at' OR data_type = 'jsonb')`,
      [schema],
    );
    const types = new Set(rows.map((r) => `${r.data_type}`));
    assert.deepEqual([...types].sort(), ['bigint', 'jsonb']);
    assert.ok(rows.some((r) => r.table_name === 'clients' && r.column_name === 'metadata'));
  });
});

import { escapeIdentifier, type Pool } from 'pg';
import { postgresMigrations } from './migrations.ts';

/**
 * Brings the schema up to the newest version. Safe when several instances start at once: the
 * whole run holds a transaction-scoped advisory lock keyed by the schema name, so one instance
 * migrates while the others wait and then find nothing left to do. PostgreSQL's DDL is
 * transactional, so a failed migration leaves the schema as it was.
 *
 * @returns the schema version after the run.
 */
export async function migrate(
  pool: Pool,
  schema: string | undefined,
  migrations: readonly string[] = postgresMigrations,
): Promise<number> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    try {
      const target = schema ?? (await client.query('SELECT current_schema() AS s')).rows[0]?.s;
      if (typeof target !== 'string') {
        throw new Error(
          'the PostgreSQL search path names no existing schema; pass a schema, e.g. ?schema=gatehouse',
        );
      }
      await client.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [
        `gatehouse:migrate:${target}`,
      ]);
      if (schema) {
        // Created under the lock: two concurrent CREATE SCHEMA IF NOT EXISTS can still collide.
        await client.query(`CREATE SCHEMA IF NOT EXISTS ${escapeIdentifier(schema)}`);
        await client.query(`SET LOCAL search_path TO ${escapeIdentifier(schema)}`);
      }
      await client.query(
        'CREATE TABLE IF NOT EXISTS gatehouse_migrations (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)',
      );
      const { rows } = await client.query('SELECT coalesce(max(version), 0) AS v FROM gatehouse_migrations');
      const current = Number(rows[0]?.v ?? 0);
      for (let version = current; version < migrations.length; version++) {
        await client.query(migrations[version] as string);
        await client.query(
          'INSERT INTO gatehouse_migrations (version, applied_at) VALUES ($1, extract(epoch FROM now())::bigint)',
          [version + 1],
        );
      }
      await client.query('COMMIT');
      return Math.max(current, migrations.length);
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {});
      throw err;
    }
  } finally {
    client.release();
  }
}

/**
 * Test support (not part of the public API): finds the test PostgreSQL, gives every test run its
 * own schema and drops it afterwards. Without a server, tests skip, or fail when CI=true.
 */
import { randomBytes } from 'node:crypto';
import { after, test } from 'node:test';
import { Client, Pool } from 'pg';
import { redactConnectionString } from './options.ts';
import { openPostgresStore, type PostgresStore } from './store.ts';

export const TEST_POSTGRES_URL =
  process.env.GATEHOUSE_TEST_POSTGRES ?? 'postgres://postgres@127.0.0.1:5432/test';

export interface TestDatabase {
  url: string;
  /** A new, not yet created schema name, dropped (with everything in it) after the file's tests. */
  newSchema(): string;
  /** Opens (and migrates) a store on a schema; closed after the file's tests if still open. */
  open(schema: string, maxConnections?: number): Promise<PostgresStore>;
  /** A pool on the test database outside any schema, for inspecting catalogues. */
  admin: Pool;
}

async function unreachableReason(url: string): Promise<string | undefined> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.query('SELECT 1');
    return undefined;
  } catch (err) {
    const e = err as Error & { code?: string };
    return e.code ?? e.message;
  } finally {
    await client.end().catch(() => {});
  }
}

/**
 * Registers the file's PostgreSQL tests through `register` when the test server answers.
 * Otherwise registers one test that skips with instructions, or fails when `CI=true` (CI must
 * never pass by skipping the only tests of the PostgreSQL store).
 */
export async function withTestDatabase(register: (db: TestDatabase) => void): Promise<void> {
  const reason = await unreachableReason(TEST_POSTGRES_URL);
  if (reason !== undefined) {
    const message =
      `PostgreSQL is not reachable at ${redactConnectionString(TEST_POSTGRES_URL)} (${reason}). ` +
      'Start one with trust auth and a "test" database, e.g. ' +
      '`docker run --rm -p 127.0.0.1:5432:5432 -e POSTGRES_HOST_AUTH_METHOD=trust -e POSTGRES_DB=test postgres:17`, ' +
      'or point GATEHOUSE_TEST_POSTGRES at one.';
    if (process.env.CI === 'true') {
      test('the PostgreSQL store tests need a PostgreSQL server (CI=true)', () => {
        throw new Error(message);
      });
    } else {
      test('PostgreSQL store tests', { skip: message }, () => {});
    }
    return;
  }

  const schemas: string[] = [];
  const stores: PostgresStore[] = [];
  const admin = new Pool({ connectionString: TEST_POSTGRES_URL, max: 2 });
  admin.on('error', () => {});
  after(async () => {
    await Promise.all(stores.map((s) => s.close()));
    for (const schema of schemas) await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await admin.end();
  });
  register({
    url: TEST_POSTGRES_URL,
    admin,
    newSchema() {
      const schema = `gatehouse_test_${process.pid}_${randomBytes(4).toString('hex')}`;
      schemas.push(schema);
      return schema;
    },
    async open(schema, maxConnections) {
      const store = await openPostgresStore({ connectionString: TEST_POSTGRES_URL, schema, maxConnections });
      stores.push(store);
      return store;
    },
  });
}

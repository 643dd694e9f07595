import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { gatehouse } from '../../../e2e/helpers/gatehouse-cli.ts';
import { withTestDatabase } from '../src/testing.ts';

const dir = mkdtempSync(join(tmpdir(), 'gatehouse-admin-pg-'));
after(() => rmSync(dir, { recursive: true, force: true }));

await withTestDatabase((db) => {
  const storeUrl = (schema: string) => `${db.url}${db.url.includes('?') ? '&' : '?'}schema=${schema}`;

  test('admin commands (users, clients, keys, grants, audit) act on the PostgreSQL store given by --store or GATEHOUSE_STORE', {
    timeout: 60_000,
  }, async () => {
    const schema = db.newSchema();
    const data = join(dir, 'admin');
    const secret = { GATEHOUSE_SECRET: 's'.repeat(43), GATEHOUSE_STORE: '' };
    const flag = ['--data', data, '--store', storeUrl(schema)];
    const viaEnv = { ...secret, GATEHOUSE_STORE: storeUrl(schema) };
    const ok = async (args: string[], env: NodeJS.ProcessEnv, input = '') => {
      const r = await gatehouse(args, input, env);
      assert.equal(r.code, 0, `gatehouse ${args.join(' ')}: ${r.stderr}`);
      return r.stdout;
    };

    await ok(['users', 'add', 'alice', '--password-stdin', ...flag], secret, 'a-long-password\n');
    const { client_id } = JSON.parse(
      await ok(
        ['clients', 'add', '--name', 'Scale App', '--redirect-uri', 'http://127.0.0.1/cb', '--json', ...flag],
        secret,
      ),
    ) as { client_id: string };
    await ok(['keys', 'rotate', ...flag], secret);

    const row = async (sql: string) => (await db.admin.query(sql)).rows[0] as Record<string, unknown>;
    assert.equal((await row(`SELECT username FROM ${schema}.users`)).username, 'alice');
    assert.equal((await row(`SELECT client_name FROM ${schema}.clients`)).client_name, 'Scale App');
    assert.equal(Number((await row(`SELECT count(*) AS n FROM ${schema}.signing_keys`)).n), 1);
    assert.ok(!existsSync(join(data, 'gatehouse.db')), 'no SQLite database is created beside');

    // The environment variable selects the same store, for every verb.
    assert.match(await ok(['users', 'list', '--data', data], viaEnv), /^alice$/m);
    assert.match(await ok(['clients', 'list', '--data', data], viaEnv), new RegExp(client_id));
    assert.match(await ok(['keys', 'list', '--data', data], viaEnv), /ES256\tsigning/);
    assert.match(await ok(['grants', 'list', '--data', data], viaEnv), /No grants/);
    const audit = (await ok(['audit', 'tail', '--json', '--data', data], viaEnv)).trim().split('\n');
    assert.deepEqual(
      audit.map((line) => (JSON.parse(line) as { type: string }).type),
      ['admin.user_added', 'admin.client_added', 'admin.keys_rotated'],
    );

    await ok(['users', 'disable', 'alice', ...flag], secret);
    assert.equal((await row(`SELECT disabled FROM ${schema}.users`)).disabled, true);
    await ok(['clients', 'remove', client_id, ...flag], secret);
    assert.equal(Number((await row(`SELECT count(*) AS n FROM ${schema}.clients`)).n), 0);
  });

  test('a --store that is not a postgres:// URL is a usage error that names the expected form', {
    timeout: 30_000,
  }, async () => {
    const r = await gatehouse(
      ['users', 'list', '--data', join(dir, 'bad'), '--store', 'mysql://x@db/y'],
      '',
      {
        GATEHOUSE_SECRET: 's'.repeat(43),
      },
    );
    assert.equal(r.code, 1);
    assert.match(r.stderr, /--store must be a postgres:\/\/ URL/);
  });
});

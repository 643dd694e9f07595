import assert from 'node:assert/strict';
import { test } from 'node:test';
import { redactConnectionString, resolvePoolConfig } from './options.ts';

test('options: a schema named in the URL sets every connection’s search path and leaves the URL', () => {
  const { pool, schema } = resolvePoolConfig({
    connectionString: 'postgres://u@127.0.0.1:5432/db?schema=auth',
  });
  assert.equal(schema, 'auth');
  assert.equal(pool.options, '-c search_path=auth');
  assert.equal(pool.connectionString, 'postgres://u@127.0.0.1:5432/db');
  assert.equal(pool.max, 10);
});

test('options: an explicit schema wins over the URL; none means the server’s search path', () => {
  assert.equal(
    resolvePoolConfig({ connectionString: 'postgres://127.0.0.1/db?schema=a', schema: 'b' }).schema,
    'b',
  );
  const plain = resolvePoolConfig({ connectionString: 'postgresql://127.0.0.1/db', maxConnections: 3 });
  assert.equal(plain.schema, undefined);
  assert.equal(plain.pool.options, undefined);
  assert.equal(plain.pool.max, 3);
});

test('options: schema names that would need quoting, and non-PostgreSQL URLs, are refused with advice', () => {
  assert.throws(
    () => resolvePoolConfig({ connectionString: 'postgres://127.0.0.1/db', schema: 'a; DROP' }),
    /lower-case letters/,
  );
  assert.throws(() => resolvePoolConfig({ connectionString: 'postgres://127.0.0.1/db?schema=Auth' }));
  assert.throws(() => resolvePoolConfig({ connectionString: 'mysql://127.0.0.1/db' }), /postgres:\/\//);
  assert.throws(() => resolvePoolConfig({ connectionString: 'not a url' }), /not a URL/);
});

test('options: connection strings in messages never show the password', () => {
  const shown = redactConnectionString('postgres://gatehouse:s3cret@127.0.0.1:5432/db');
  assert.ok(!shown.includes('s3cret'));
  assert.match(shown, /gatehouse:\*\*\*@127\.0\.0\.1/);
});

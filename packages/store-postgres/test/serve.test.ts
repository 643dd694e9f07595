import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { withTestDatabase } from '../src/testing.ts';

const MAIN = fileURLToPath(new URL('../../cli/src/main.ts', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'gatehouse-serve-pg-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Preloaded into the CLI: reports every import of `pg` or of this package on stderr. */
const TRACE_PG = `data:text/javascript,${encodeURIComponent(`
  import { registerHooks } from 'node:module';
  registerHooks({
    resolve(specifier, context, next) {
      if (specifier === 'pg' || specifier === '@gatehouse/store-postgres') process.stderr.write('LOADED ' + specifier + '\\n');
      return next(specifier, context);
    },
  });
`)}`;

/** Runs `gatehouse …` as its own process; resolves with the issuer once it prints it, or its exit. */
function gatehouse(args: string[], env: NodeJS.ProcessEnv = {}) {
  const child: ChildProcess = spawn(process.execPath, ['--import', TRACE_PG, MAIN, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  let output = '';
  const exited = new Promise<number>((resolve) => child.once('close', (code) => resolve(code ?? -1)));
  const issuer = new Promise<string | undefined>((resolve) => {
    const onData = (chunk: Buffer) => {
      output += chunk;
      const found = /Issuer \(authorization server\):\s+(http:\/\/127\.0\.0\.1:\d+)/.exec(output)?.[1];
      if (found) resolve(found);
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    void exited.then(() => resolve(undefined));
  });
  const stop = () => {
    if (child.exitCode === null) child.kill('SIGTERM');
    return exited;
  };
  return { issuer, exited, stop, output: () => output };
}

await withTestDatabase((db) => {
  const storeUrl = (schema: string) => `${db.url}${db.url.includes('?') ? '&' : '?'}schema=${schema}`;
  const keysIn = async (schema: string) =>
    Number((await db.admin.query(`SELECT count(*) AS n FROM ${schema}.signing_keys`)).rows[0]?.n);

  test('gatehouse serve --store postgres://…: the authorization server keeps its state in PostgreSQL', {
    timeout: 30_000,
  }, async () => {
    const schema = db.newSchema();
    const data = join(dir, 'flag');
    const run = gatehouse(['serve', '--port', '0', '--data', data, '--store', storeUrl(schema)]);
    try {
      const issuer = await run.issuer;
      assert.ok(issuer, run.output());
      const metadata = await (await fetch(`${issuer}/.well-known/oauth-authorization-server`)).json();
      assert.equal(metadata.issuer, issuer);
      const jwks = (await (await fetch(`${issuer}/.well-known/jwks.json`)).json()) as {
        keys: { kid: string }[];
      };
      assert.ok(jwks.keys.length >= 1);
      assert.ok((await keysIn(schema)) >= 1, 'the signing key lives in the PostgreSQL schema');
      assert.ok(existsSync(join(data, 'secret.key')), 'the data folder still holds the master secret');
      assert.ok(!existsSync(join(data, 'gatehouse.db')), 'and no SQLite database was created');
      assert.match(run.output(), /LOADED pg/, 'the trace sees pg being loaded when asked for');
    } finally {
      assert.equal(await run.stop(), 0);
    }
  });

  test('GATEHOUSE_STORE selects the store too, and the master secret may come from GATEHOUSE_SECRET', {
    timeout: 30_000,
  }, async () => {
    const schema = db.newSchema();
    const data = join(dir, 'env');
    const run = gatehouse(['serve', '--port', '0', '--data', data], {
      GATEHOUSE_STORE: storeUrl(schema),
      GATEHOUSE_SECRET: 'x'.repeat(43),
    });
    try {
      assert.ok(await run.issuer, run.output());
      assert.ok((await keysIn(schema)) >= 1);
      assert.ok(!existsSync(join(data, 'secret.key')));
    } finally {
      assert.equal(await run.stop(), 0);
    }
  });

  test('without --store the default SQLite path never loads pg', { timeout: 30_000 }, async () => {
    const data = join(dir, 'default');
    const run = gatehouse(['serve', '--port', '0', '--data', data], { GATEHOUSE_STORE: '' });
    try {
      assert.ok(await run.issuer, run.output());
      assert.ok(existsSync(join(data, 'gatehouse.db')));
      assert.doesNotMatch(run.output(), /LOADED/);
    } finally {
      assert.equal(await run.stop(), 0);
    }
  });

  test('an unreachable store is a one-line error that never shows the password', {
    timeout: 30_000,
  }, async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    await new Promise((resolve) => server.close(resolve));
    const run = gatehouse([
      'serve',
      '--port',
      '0',
      '--data',
      join(dir, 'down'),
      '--store',
      `postgres://gatehouse:hunter2-secret@127.0.0.1:${port}/gatehouse`,
    ]);
    assert.equal(await run.exited, 1);
    assert.match(
      run.output(),
      /gatehouse: cannot open the store at postgres:\/\/gatehouse:\*\*\*@127\.0\.0\.1:\d+/,
    );
    assert.ok(!run.output().includes('hunter2'), run.output());
    assert.ok(!/\n\s+at /.test(run.output()), 'no stack trace');
  });
});

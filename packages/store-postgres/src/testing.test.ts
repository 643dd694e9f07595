import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

/** A loopback port with nothing listening: bind one, then let it go. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const contractFile = fileURLToPath(new URL('./store.test.ts', import.meta.url));

async function runWithoutServer(ci: string | undefined) {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    GATEHOUSE_TEST_POSTGRES: `postgres://postgres@127.0.0.1:${await closedPort()}/test`,
  };
  delete env.CI;
  delete env.NODE_TEST_CONTEXT; // run the child as a standalone test process with its own report
  if (ci !== undefined) env.CI = ci;
  return spawnSync(process.execPath, ['--test', '--test-reporter=tap', contractFile], {
    env,
    encoding: 'utf8',
  });
}

test('without PostgreSQL the store tests skip and say how to start one', async () => {
  const result = await runWithoutServer(undefined);
  assert.equal(result.status, 0, result.stdout + result.stderr);
  assert.match(
    result.stdout,
    /# SKIP PostgreSQL is not reachable at postgres:\/\/postgres@127\.0\.0\.1:\d+\/test/,
  );
  assert.match(result.stdout, /docker run/);
  assert.match(result.stdout, /# pass 0/);
});

test('without PostgreSQL and with CI=true the store tests fail, so CI cannot pass by skipping', async () => {
  const result = await runWithoutServer('true');
  assert.notEqual(result.status, 0);
  assert.match(result.stdout, /not ok .* the PostgreSQL store tests need a PostgreSQL server \(CI=true\)/);
  assert.match(result.stdout, /GATEHOUSE_TEST_POSTGRES/);
});

import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type CliResult, cli, serve, tokenRequest } from './harness.ts';

/**
 * What `gatehouse clients add` means by `--scope` (and by its absence) for client_credentials:
 * an administrator's registration is a ceiling, and no `--scope` sets none.
 */
let dir: string;
let issuer: string;
let stopServer: () => Promise<number>;

const ok = (result: CliResult) => {
  assert.equal(result.code, 0, `gatehouse failed: ${result.stderr}`);
  return result.stdout;
};

async function addConfidential(...extra: string[]): Promise<{ client_id: string; client_secret: string }> {
  return JSON.parse(
    ok(
      await cli([
        'clients',
        'add',
        '--name',
        'Batch job',
        '--confidential',
        '--json',
        ...extra,
        '--data',
        dir,
      ]),
    ),
  );
}

async function scopeOf(accessToken: string): Promise<string> {
  return JSON.parse(Buffer.from(accessToken.split('.')[1] as string, 'base64url').toString()).scope;
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gatehouse-client-scope-'));
  ({ issuer, stop: stopServer } = await serve(dir));
});
after(async () => {
  await stopServer?.();
  await rm(dir, { recursive: true, force: true });
});

test('RFC 6749 §4.4.2, §3.3: a client added with --confidential and no --scope gets tokens for the scope it requests', async () => {
  const client = await addConfidential();
  const tokens = await tokenRequest(
    { issuer, clientId: client.client_id, clientSecret: client.client_secret },
    { grant_type: 'client_credentials', scope: 'tools:list' },
  );
  assert.equal(await scopeOf(tokens.access_token), 'tools:list');
});

test('RFC 6749 §3.3: a client added with --scope may not exceed it at client_credentials (invalid_scope)', async () => {
  const client = await addConfidential('--scope', 'tools:list');
  const tokens = await tokenRequest(
    { issuer, clientId: client.client_id, clientSecret: client.client_secret },
    { grant_type: 'client_credentials' },
  );
  assert.equal(await scopeOf(tokens.access_token), 'tools:list');
  await assert.rejects(
    tokenRequest(
      { issuer, clientId: client.client_id, clientSecret: client.client_secret },
      { grant_type: 'client_credentials', scope: 'tools:execute' },
    ),
    /400 .*invalid_scope/,
  );
});

import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { addUser } from '../../../e2e/helpers/gatehouse-cli.ts';
import { cli } from './harness.ts';

test('issue #12: users link and unlink an identity at a provider; list shows it; an identity belongs to one user only', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'gatehouse-identities-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await addUser(dir, 'ann', 'a sufficiently long password');
  await addUser(dir, 'bob', 'a sufficiently long password');
  const linked = await cli([
    'users',
    'link',
    'ann',
    '--provider',
    'keycloak',
    '--subject',
    'f3a1-77',
    '--data',
    dir,
  ]);
  assert.equal(linked.code, 0, linked.stderr);
  assert.match(linked.stdout, /Linked keycloak:f3a1-77 to ann/);
  const taken = await cli([
    'users',
    'link',
    'bob',
    '--provider',
    'keycloak',
    '--subject',
    'f3a1-77',
    '--data',
    dir,
  ]);
  assert.notEqual(taken.code, 0);
  assert.match(taken.stderr, /already linked to ann/);
  assert.match((await cli(['users', 'list', '--data', dir])).stdout, /^ann {2}keycloak:f3a1-77$/m);
  const json = JSON.parse((await cli(['users', 'list', '--json', '--data', dir])).stdout) as {
    username: string;
    identities: { provider: string; subject: string }[];
  }[];
  assert.deepEqual(json.find((u) => u.username === 'ann')?.identities, [
    { provider: 'keycloak', subject: 'f3a1-77' },
  ]);
  assert.deepEqual(json.find((u) => u.username === 'bob')?.identities, []);
  const wrongUser = await cli([
    'users',
    'unlink',
    'bob',
    '--provider',
    'keycloak',
    '--subject',
    'f3a1-77',
    '--data',
    dir,
  ]);
  assert.notEqual(wrongUser.code, 0);
  const unlinked = await cli([
    'users',
    'unlink',
    'ann',
    '--provider',
    'keycloak',
    '--subject',
    'f3a1-77',
    '--data',
    dir,
  ]);
  assert.equal(unlinked.code, 0, unlinked.stderr);
  assert.doesNotMatch((await cli(['users', 'list', '--data', dir])).stdout, /keycloak/);
  assert.match(
    (await cli(['audit', 'tail', '--data', dir])).stdout,
    /admin\.identity_linked[\s\S]*admin\.identity_unlinked/,
  );
});

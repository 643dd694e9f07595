import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { createSecrets, loadMasterSecret, SqliteStore } from '@gatehouse/server';
import { addUser } from '../../../e2e/helpers/gatehouse-cli.ts';
import { cli } from './harness.ts';

test('issue #12: gatehouse connections list shows who connected what and its state, never a token; remove deletes it, audited', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'gatehouse-connections-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await addUser(dir, 'ada', 'a sufficiently long password');
  const secrets = createSecrets(loadMasterSecret(dir));
  const store = new SqliteStore(join(dir, 'gatehouse.db'));
  const ada = await store.getUserByName('ada');
  assert.ok(ada);
  const plaintext = 'gho_upstream-access-token-value';
  const encrypted = secrets.encrypt(plaintext, `connection:${ada.id}:github:access`);
  await store.saveConnection({
    user_id: ada.id,
    provider: 'github',
    access_token_encrypted: encrypted,
    state: 'active',
    created_at: 1_900_000_000,
    updated_at: 1_900_000_000,
  });
  await store.close();

  const listed = await cli(['connections', 'list', '--json', '--data', dir]);
  assert.equal(listed.code, 0, listed.stderr);
  assert.deepEqual(
    (JSON.parse(listed.stdout) as { user: string; connection: string; state: string }[]).map(
      ({ user, connection, state }) => ({ user, connection, state }),
    ),
    [{ user: 'ada', connection: 'github', state: 'active' }],
  );
  const text = await cli(['connections', 'list', '--data', dir]);
  for (const output of [listed.stdout, text.stdout]) {
    assert.ok(!output.includes(plaintext) && !output.includes(encrypted), 'no token value, in any form');
  }

  const removed = await cli(['connections', 'remove', 'ada', 'github', '--data', dir]);
  assert.equal(removed.code, 0, removed.stderr);
  assert.match(removed.stdout, /not revoked: pass --config/);
  assert.equal((await cli(['connections', 'list', '--data', dir])).stdout.trim(), 'No connections.');
  const again = await cli(['connections', 'remove', 'ada', 'github', '--data', dir]);
  assert.notEqual(again.code, 0);
  assert.match(again.stderr, /no connection "github"/);
  const audit = (await cli(['audit', 'tail', '--json', '--data', dir])).stdout;
  assert.match(audit, /connection\.removed/);
});

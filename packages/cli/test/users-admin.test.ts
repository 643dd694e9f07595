import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { addUser } from '../../../e2e/helpers/gatehouse-cli.ts';
import { cli } from './harness.ts';

const PASSWORD = 'a sufficiently long password';

test('issue #13: users add --admin makes an administrator; promote and demote grant and take the role, audited', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'gatehouse-admins-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const added = await cli(
    ['users', 'add', 'root', '--password-stdin', '--admin', '--data', dir],
    `${PASSWORD}\n`,
  );
  assert.equal(added.code, 0, added.stderr);
  await addUser(dir, 'ann', PASSWORD);
  const list = async () =>
    JSON.parse((await cli(['users', 'list', '--json', '--data', dir])).stdout) as {
      username: string;
      admin?: boolean;
      password_hash?: string;
    }[];
  const admins = async () => (await list()).filter((u) => u.admin).map((u) => u.username);
  assert.deepEqual(await admins(), ['root']);
  assert.equal((await cli(['users', 'promote', 'ann', '--data', dir])).code, 0);
  assert.deepEqual(await admins(), ['ann', 'root']);
  const demoted = await cli(['users', 'demote', 'root', '--data', dir]);
  assert.match(demoted.stdout, /User root demoted/);
  const after = await list();
  assert.deepEqual(
    after.filter((u) => u.admin).map((u) => u.username),
    ['ann'],
  );
  assert.ok(after.every((u) => u.password_hash === undefined));
  const audit = (await cli(['audit', 'tail', '--data', dir])).stdout;
  assert.match(audit, /admin\.user_promoted/);
  assert.match(audit, /admin\.user_demoted/);
});

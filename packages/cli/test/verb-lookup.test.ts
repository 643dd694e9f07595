import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { addUser } from '../../../e2e/helpers/gatehouse-cli.ts';
import { cli } from './harness.ts';

test('secure by default: a sub-verb named after an Object.prototype member (users toString NAME) changes nothing', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'gatehouse-verbs-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await addUser(dir, 'alice', 'a sufficiently long password');
  for (const verb of ['toString', 'constructor', 'valueOf', '__proto__', 'hasOwnProperty']) {
    const result = await cli(['users', verb, 'alice', '--data', dir]);
    assert.notEqual(result.code, 0, verb);
    assert.match(result.stderr, /Usage: gatehouse users/, verb);
  }
  const list = await cli(['users', 'list', '--data', dir]);
  assert.doesNotMatch(list.stdout, /disabled/i, list.stdout);
});

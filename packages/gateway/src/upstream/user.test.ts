import assert from 'node:assert/strict';
import { test } from 'node:test';
import { USER_PLACEHOLDER as U } from '../config/schema.ts';
import { pathSafeUser, withUser } from './user.ts';

test('per-user processes: a user id becomes a path segment of [A-Za-z0-9_-] only, never . or ..', () => {
  for (const user of ['..', '.', '../../etc/passwd', 'a/b', 'a\\b', 'x\0y', 'émile', ' ', '%2e%2e', 'C:']) {
    const safe = pathSafeUser(user);
    assert.match(safe, /^[A-Za-z0-9_-]+$/, user);
    assert.notEqual(safe, '.');
    assert.notEqual(safe, '..');
  }
  assert.equal(pathSafeUser('alice-1'), 'alice-1');
  assert.equal(pathSafeUser('../etc'), '_2e_2e_2fetc');
});

test('per-user processes: two users never share a folder (the mapping is one-to-one)', () => {
  const users = [
    'alice@x',
    'alice_40x',
    'alice_x',
    'alice.x',
    'alice/x',
    'a'.repeat(200),
    `${'a'.repeat(199)}b`,
  ];
  const safe = users.map(pathSafeUser);
  assert.equal(new Set(safe).size, users.length);
  assert.ok(safe.every((s) => s.length <= 96 || /^_h[0-9a-f]{64}$/.test(s)));
});

test('per-user processes: the user placeholder is replaced everywhere in a string; an empty user is refused', () => {
  assert.equal(withUser(`/srv/${U}/data-${U}`, 'bob@x'), '/srv/bob_40x/data-bob_40x');
  assert.equal(withUser('no placeholder', ''), 'no placeholder');
  assert.throws(() => pathSafeUser(''), TypeError);
});

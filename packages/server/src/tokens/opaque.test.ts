import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createOpaqueToken, isWellFormedOpaqueToken, REFRESH_TOKEN_PREFIX } from './opaque.ts';

test('refresh tokens carry a recognisable prefix and a checksum that catches a changed character', () => {
  const token = createOpaqueToken(REFRESH_TOKEN_PREFIX);
  assert.match(token, /^gatehouse_rt_[A-Za-z0-9_-]{43}_[0-9a-z]{7}$/);
  assert.ok(isWellFormedOpaqueToken(REFRESH_TOKEN_PREFIX, token));
  const i = REFRESH_TOKEN_PREFIX.length + 5;
  const tampered = `${token.slice(0, i)}${token[i] === 'A' ? 'B' : 'A'}${token.slice(i + 1)}`;
  assert.ok(!isWellFormedOpaqueToken(REFRESH_TOKEN_PREFIX, tampered));
  assert.ok(!isWellFormedOpaqueToken('other_', token));
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { narrowScopes } from './revocation.ts';

test('narrowing keeps what the cap allows: unticked scopes go, the rest stay as held', () => {
  assert.deepEqual(
    narrowScopes(['tools:list', 'tools:execute', 'resources:read'], ['tools:list', 'resources:read']),
    ['tools:list', 'resources:read'],
  );
  assert.deepEqual(narrowScopes(['tools:list'], []), []);
});

test('RFC 6749 §3.3 scope hierarchy: a held descendant of a capped scope stays; a held ancestor shrinks to the cap', () => {
  assert.deepEqual(narrowScopes(['tools:execute:filesystem'], ['tools:execute']), [
    'tools:execute:filesystem',
  ]);
  assert.deepEqual(narrowScopes(['tools:execute'], ['tools:execute:filesystem', 'tools:list']), [
    'tools:execute:filesystem',
  ]);
  assert.deepEqual(narrowScopes(['tools:execute:database'], ['tools:execute:filesystem']), []);
  assert.deepEqual(narrowScopes(['tools:executed'], ['tools:execute']), [], 'segments, not prefixes');
});

test('caps compose: narrowing twice is narrowing to what both allow, in either order', () => {
  const held = ['tools:list', 'tools:execute', 'prompts:list'];
  const a = ['tools:list', 'tools:execute:filesystem', 'prompts:list'];
  const b = ['tools:execute', 'prompts:list'];
  const ab = narrowScopes(narrowScopes(held, a), b).sort();
  const ba = narrowScopes(narrowScopes(held, b), a).sort();
  assert.deepEqual(ab, ['prompts:list', 'tools:execute:filesystem']);
  assert.deepEqual(ba, ab);
});

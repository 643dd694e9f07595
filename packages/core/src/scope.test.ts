import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatScope, hasScope, missingScopes, parseScope, ScopeCatalogue, scopeCovers } from './scope.ts';

test('RFC 6749 §3.3: scope is space-delimited; duplicates collapse; empty tokens ignored', () => {
  assert.deepEqual(parseScope('tools:list  tools:list resources:read'), ['tools:list', 'resources:read']);
  assert.deepEqual(parseScope(undefined), []);
  assert.equal(formatScope(['a', 'b', 'a']), 'a b');
});

test('RFC 6749 §3.3: a scope token with a quote or backslash is refused', () => {
  assert.throws(() => parseScope('tools:"list'), { code: 'invalid_scope' });
  assert.throws(() => parseScope('tools\\list'), { code: 'invalid_scope' });
});

test('hierarchy: tools:execute covers tools:execute:filesystem but not tools:executed or tools:list', () => {
  assert.ok(scopeCovers('tools:execute', 'tools:execute:filesystem'));
  assert.ok(scopeCovers('tools:execute', 'tools:execute'));
  assert.ok(!scopeCovers('tools:execute', 'tools:executed'));
  assert.ok(!scopeCovers('tools:execute:filesystem', 'tools:execute'));
  assert.ok(hasScope(['tools:execute'], 'tools:execute:database'));
  assert.deepEqual(missingScopes(['tools:execute:filesystem'], ['tools:execute:database', 'tools:list']), [
    'tools:execute:database',
    'tools:list',
  ]);
});

test('consent sentences: one per scope, an ancestor hides what it covers', () => {
  const catalogue = new ScopeCatalogue();
  const lines = catalogue.describe(['tools:execute', 'tools:execute:filesystem', 'resources:read']);
  assert.deepEqual(
    lines.map((l) => l.name),
    ['tools:execute', 'resources:read'],
  );
  assert.equal(catalogue.describe(['tools:execute:database'])[0]?.description.includes('database'), true);
});

test('consent sentences: offline_access is explained in words, never shown as a token', () => {
  const [line] = new ScopeCatalogue().describe(['offline_access']);
  assert.equal(line?.name, 'offline_access');
  assert.match(line?.description ?? '', /Stay connected/);
});

test('the catalogue is extensible', () => {
  const catalogue = new ScopeCatalogue([{ name: 'billing:read', description: 'See your invoices' }]);
  assert.deepEqual(catalogue.names, ['billing:read']);
});

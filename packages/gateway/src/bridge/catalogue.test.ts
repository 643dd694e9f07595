import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ToolCatalogue } from './catalogue.ts';

test('MCP tool annotations are hints: a tool once listed as not read-only never moves to the narrower read scope', () => {
  const catalogue = new ToolCatalogue();
  catalogue.learn([{ name: 'delete_all' }, { name: 'read', annotations: { readOnlyHint: true } }], true);
  // Another process (another user's, in per-user mode) claims the tool only reads.
  catalogue.learn([{ name: 'delete_all', annotations: { readOnlyHint: true } }], true);
  assert.notEqual(catalogue.get('delete_all')?.annotations?.readOnlyHint, true);
  // The other way is allowed: a tool that stops claiming to read only needs the broader scope.
  catalogue.learn([{ name: 'read', annotations: { readOnlyHint: false } }], true);
  assert.equal(catalogue.get('read')?.annotations?.readOnlyHint, false);
  catalogue.learn([{ name: 'read', annotations: { readOnlyHint: true } }], true);
  assert.equal(catalogue.get('read')?.annotations?.readOnlyHint, false);
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { McpScopeManifest } from './manifest.ts';
import { manifestScopes, templateMatches } from './manifest.ts';
import { challengeScopes, isSatisfied, requestRequirements, requiredScopes } from './policy.ts';

const manifest: McpScopeManifest = {
  tools: { query: 'tools:execute:database' },
  resources: [
    { uri: 'demo://readme', scope: 'resources:read:docs' },
    { uriTemplate: 'demo://tables/{t}', scope: 'resources:read:db' },
  ],
  prompts: { p: 'prompts:execute:p' },
};
const op = (method: string, params: Record<string, unknown> = {}) => ({ method, params });

test('MCP scope policy: each method needs the scope the issue assigns it', () => {
  assert.deepEqual(requiredScopes(op('tools/list'), manifest), [{ scope: 'tools:list' }]);
  assert.deepEqual(requiredScopes(op('tools/call', { name: 'query' }), manifest), [
    { scope: 'tools:execute:database' },
  ]);
  assert.deepEqual(requiredScopes(op('tools/call', { name: 'undeclared' }), manifest), [
    { scope: 'tools:execute' },
  ]);
  assert.deepEqual(requiredScopes(op('tools/call', { name: 'constructor' }), manifest), [
    { scope: 'tools:execute' },
  ]);
  assert.deepEqual(requiredScopes(op('resources/read', { uri: 'demo://tables/x' }), manifest), [
    { scope: 'resources:read:db' },
  ]);
  assert.deepEqual(requiredScopes(op('resources/read', { uri: 'demo://readme' }), manifest), [
    { scope: 'resources:read:docs' },
  ]);
  assert.deepEqual(requiredScopes(op('prompts/list'), manifest), [{ scope: 'prompts:list' }]);
  assert.deepEqual(requiredScopes(op('prompts/get', { name: 'other' }), manifest), [
    { scope: 'prompts:execute' },
  ]);
  assert.deepEqual(requiredScopes(op('initialize'), manifest), []);
  assert.deepEqual(requiredScopes({ method: undefined, params: undefined }, manifest), []);
});

test('2026-07-28 subscriptions/listen: resource subscriptions need resources:subscribe and the read scope', () => {
  const reqs = requiredScopes(
    op('subscriptions/listen', { notifications: { resourceSubscriptions: ['demo://tables/a'] } }),
    manifest,
  );
  assert.deepEqual(challengeScopes(reqs), ['resources:subscribe', 'resources:read:db']);
});

test('hierarchy: an ancestor satisfies; a narrower scope satisfies only where allowed', () => {
  assert.ok(isSatisfied(['tools:execute'], { scope: 'tools:execute:database' }));
  assert.ok(!isSatisfied(['tools:execute:database'], { scope: 'tools:execute' }));
  assert.ok(isSatisfied(['resources:read:db'], { scope: 'resources:read', orNarrower: true }));
});

test('a batch challenge names every needed scope once, ancestors absorbing descendants', () => {
  const reqs = requestRequirements(
    [op('tools/call', { name: 'query' }), op('tools/call', { name: 'x' }), op('tools/list')],
    manifest,
  );
  assert.deepEqual(challengeScopes(reqs), ['tools:execute', 'tools:list']);
});

test('RFC 6570 templates match one segment per {var}, anything for {+var}', () => {
  assert.ok(templateMatches('demo://tables/{t}', 'demo://tables/notes'));
  assert.ok(!templateMatches('demo://tables/{t}', 'demo://tables/a/b'));
  assert.ok(templateMatches('file:///{+path}', 'file:///a/b/c'));
});

test('RFC 9728 scopes_supported from the manifest never includes offline_access', () => {
  assert.ok(!manifestScopes(manifest).includes('offline_access'));
  assert.ok(manifestScopes(manifest).includes('tools:execute:database'));
});

test('MCP scope policy: tools learned at run time take toolScopeOf, then the manifest default, then tools:execute', () => {
  const learned: McpScopeManifest = {
    tools: { write: 'tools:execute:fs:write' },
    toolScopeOf: (name) => (name === 'read' ? 'tools:execute:fs:read' : undefined),
    defaultToolScope: 'tools:execute:fs',
  };
  assert.deepEqual(requiredScopes(op('tools/call', { name: 'write' }), learned), [
    { scope: 'tools:execute:fs:write' },
  ]);
  assert.deepEqual(requiredScopes(op('tools/call', { name: 'read' }), learned), [
    { scope: 'tools:execute:fs:read' },
  ]);
  assert.deepEqual(requiredScopes(op('tools/call', { name: 'other' }), learned), [
    { scope: 'tools:execute:fs' },
  ]);
  assert.ok(manifestScopes(learned).includes('tools:execute:fs'));
  assert.deepEqual(requiredScopes(op('tools/call', { name: 'other' }), manifest), [
    { scope: 'tools:execute' },
  ]);
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { toolScope } from '@gatehouse/resource';
import type { McpServerConfig } from './config/schema.ts';
import { serverManifest, serverScopeDefinitions, serverScopesSupported, toolScopeFor } from './scopes.ts';

const fs: McpServerConfig = {
  command: 'fs-server',
  title: 'Filesystem',
  readOnlyScope: true,
  tools: {
    move_file: { scope: 'tools:execute:filesystem:admin' },
    delete_file: { scope: 'tools:execute:filesystem:admin' },
  },
};

test('gateway scopes: servers named filesystem and database get the seed scopes tools:execute:filesystem and tools:execute:database', () => {
  assert.equal(
    toolScopeFor('filesystem', { command: 'x' }, { name: 'read_file' }),
    'tools:execute:filesystem',
  );
  assert.equal(toolScopeFor('database', { command: 'x' }, { name: 'query' }), 'tools:execute:database');
});

test('gateway scopes: an override wins, then readOnlyHint (with readOnlyScope) gives the :read scope, else the server scope', () => {
  assert.equal(
    toolScopeFor('filesystem', fs, { name: 'move_file', annotations: { readOnlyHint: true } }),
    'tools:execute:filesystem:admin',
  );
  assert.equal(
    toolScopeFor('filesystem', fs, { name: 'read_file', annotations: { readOnlyHint: true } }),
    'tools:execute:filesystem:read',
  );
  assert.equal(
    toolScopeFor('filesystem', fs, { name: 'write_file', annotations: { readOnlyHint: false } }),
    'tools:execute:filesystem',
  );
  const off = { ...fs, readOnlyScope: false };
  assert.equal(
    toolScopeFor('filesystem', off, { name: 'read_file', annotations: { readOnlyHint: true } }),
    'tools:execute:filesystem',
  );
  // A name from the network never resolves to a prototype member.
  assert.equal(toolScopeFor('filesystem', fs, { name: 'constructor' }), 'tools:execute:filesystem');
});

test('gateway scopes: the guard needs the server scope for a tool it has not learned yet, never the read-only one', () => {
  const learned = new Map([['read_file', { name: 'read_file', annotations: { readOnlyHint: true } }]]);
  const manifest = serverManifest('filesystem', fs, (name) => learned.get(name));
  assert.equal(toolScope(manifest, 'read_file'), 'tools:execute:filesystem:read');
  assert.equal(toolScope(manifest, 'not_listed_yet'), 'tools:execute:filesystem');
  assert.equal(toolScope(manifest, 'delete_file'), 'tools:execute:filesystem:admin');
});

test('gateway scopes: the consent sentences come from the title, and scopes_supported names every tool scope', () => {
  assert.deepEqual(serverScopeDefinitions('filesystem', fs), [
    { name: 'tools:execute:filesystem', description: 'Run Filesystem tools' },
    { name: 'tools:execute:filesystem:read', description: 'Run Filesystem tools that only read' },
    {
      name: 'tools:execute:filesystem:admin',
      description: 'Run the Filesystem tools move_file and delete_file',
    },
  ]);
  assert.deepEqual(serverScopeDefinitions('git', { command: 'x' }), [
    { name: 'tools:execute:git', description: 'Run git tools' },
  ]);
  assert.deepEqual(serverScopesSupported('filesystem', fs), [
    'tools:list',
    'tools:execute:filesystem',
    'tools:execute:filesystem:read',
    'tools:execute:filesystem:admin',
    'resources:read',
    'resources:subscribe',
    'prompts:list',
    'prompts:execute',
  ]);
});

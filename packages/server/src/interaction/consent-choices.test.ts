import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ScopeCatalogue } from '@gatehouse/core';
import { approvedScope, consentChoices, grantsNothing } from './consent-choices.ts';

const catalogue = new ScopeCatalogue();
const none = { required: [], uncheckedByDefault: [] };
const tools = [
  { name: 'read_file', scope: 'tools:execute:filesystem' },
  { name: 'write_file', scope: 'tools:execute:filesystem' },
  { name: 'query', scope: 'tools:execute:database' },
];

test('RFC 6749 §3.3: every requested scope is a choice, ticked unless the operator offers it unticked; required ones are ticked and marked', () => {
  const { already, offered } = consentChoices({
    requested: ['tools:list', 'tools:execute:database', 'offline_access'],
    remembered: [],
    catalogue,
    policy: { required: ['tools:list'], uncheckedByDefault: ['tools:execute:database'] },
    tools,
  });
  assert.deepEqual(already, []);
  assert.deepEqual(
    offered.map((c) => [c.name, c.checked, c.required]),
    [
      ['tools:list', true, true],
      ['tools:execute:database', false, false],
      ['offline_access', true, false],
    ],
  );
  assert.match(offered[2]?.description ?? '', /Stay connected while you are away/);
});

test('consent names the tools a scope unlocks: all of up to six, else five and "and N more"', () => {
  const many = Array.from({ length: 17 }, (_, i) => ({
    name: `tool_${i}`,
    scope: 'tools:execute:filesystem',
  }));
  const [fs] = consentChoices({
    requested: ['tools:execute:filesystem'],
    remembered: [],
    catalogue,
    policy: none,
    tools: many,
  }).offered;
  assert.deepEqual(fs?.tools, ['tool_0', 'tool_1', 'tool_2', 'tool_3', 'tool_4']);
  assert.equal(fs?.moreTools, 12);
  const [all] = consentChoices({
    requested: ['tools:execute'],
    remembered: [],
    catalogue,
    policy: none,
    tools,
  }).offered;
  assert.deepEqual(
    all?.tools,
    ['read_file', 'write_file', 'query'],
    'a parent scope unlocks its children’s tools',
  );
  assert.equal(all?.moreTools, 0);
});

test('a requested scope under another requested scope is offered beneath it, so either can be chosen', () => {
  const { offered } = consentChoices({
    requested: ['tools:execute', 'tools:execute:filesystem', 'resources:read'],
    remembered: [],
    catalogue,
    policy: { required: [], uncheckedByDefault: ['tools:execute'] },
    tools,
  });
  assert.deepEqual(
    offered.map((c) => [c.name, c.children.map((k) => k.name)]),
    [
      ['tools:execute', ['tools:execute:filesystem']],
      ['resources:read', []],
    ],
  );
  assert.equal(offered[0]?.children[0]?.checked, false, 'unticked under an unticked-by-default parent');
  assert.deepEqual(offered[0]?.children[0]?.tools, ['read_file', 'write_file']);
});

test('step-up: requested scopes the remembered consent covers are listed as already allowed; only the new ones are choices', () => {
  const { already, offered } = consentChoices({
    requested: ['tools:list', 'tools:execute:filesystem', 'tools:execute:database'],
    remembered: ['tools:list', 'tools:execute:filesystem'],
    catalogue,
    policy: none,
    tools,
  });
  assert.deepEqual(
    already.map((s) => s.name),
    ['tools:list', 'tools:execute:filesystem'],
  );
  assert.deepEqual(
    offered.map((c) => c.name),
    ['tools:execute:database'],
  );
});

test('RFC 6749 §3.3: an approval grants exactly the ticked requested scopes and the required ones; anything else in the form is ignored', () => {
  const requested = ['tools:list', 'tools:execute:filesystem', 'resources:read', 'offline_access'];
  const policy = { required: ['tools:list'], uncheckedByDefault: [] };
  assert.deepEqual(approvedScope({ requested, remembered: [], ticked: 'resources:read', policy }), [
    'tools:list',
    'resources:read',
  ]);
  assert.deepEqual(
    approvedScope({
      requested,
      remembered: [],
      ticked: 'tools:execute tools:execute:database admin  "><script> resources:read',
      policy,
    }),
    ['tools:list', 'resources:read'],
    'scopes not requested (even a parent of a requested one) are never granted',
  );
  assert.deepEqual(approvedScope({ requested, remembered: [], ticked: undefined, policy: none }), []);
});

test('RFC 6749 §3.3 step-up: an approval keeps what was approved before, within what is requested now', () => {
  assert.deepEqual(
    approvedScope({
      requested: ['tools:list', 'tools:execute:filesystem', 'tools:execute:database', 'prompts:list'],
      remembered: ['tools:list', 'tools:execute:filesystem', 'resources:read'],
      ticked: 'tools:execute:database',
      policy: none,
    }),
    ['tools:list', 'tools:execute:filesystem', 'tools:execute:database'],
  );
});

test('an approval that grants nothing on the resource (no scope, or offline_access alone) is empty', () => {
  assert.equal(grantsNothing([]), true);
  assert.equal(grantsNothing(['offline_access']), true);
  assert.equal(grantsNothing(['tools:list']), false);
});

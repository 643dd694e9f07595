import assert from 'node:assert/strict';
import { test } from 'node:test';
import { resolveConfig } from './config.ts';
import type { Store } from './store/types.ts';

/** resolveConfig never touches the store. */
const store = {} as Store;
const resolve = (consent: { required?: string[]; uncheckedByDefault?: string[] } | undefined) =>
  resolveConfig({ issuer: 'https://auth.example.com', store, masterSecret: 'x'.repeat(43), consent });

test('configuration: consent defaults to nothing required and every box ticked; toolsOf to no tool names', async () => {
  const config = resolve(undefined);
  assert.deepEqual(config.consent, { required: [], uncheckedByDefault: [] });
  assert.deepEqual(await config.toolsOf('https://auth.example.com/mcp'), []);
});

test('configuration: consent lists name scopes of the catalogue (or offline_access), each in one list only', () => {
  assert.deepEqual(resolve({ required: ['tools:list'], uncheckedByDefault: ['offline_access'] }).consent, {
    required: ['tools:list'],
    uncheckedByDefault: ['offline_access'],
  });
  assert.throws(
    () => resolve({ required: ['tools:lsit'] }),
    /consent\.required: "tools:lsit" is not a scope/,
  );
  assert.throws(
    () => resolve({ required: ['tools:list'], uncheckedByDefault: ['tools:list'] }),
    /"tools:list" is both required and unchecked by default/,
  );
});

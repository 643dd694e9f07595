import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createPkcePair } from '@gatehouse/core';
import { type Harness, startAuthorizationServer } from './harness.ts';

let h: Harness;
before(async () => {
  h = await startAuthorizationServer();
});
after(() => h.close());

async function authorizeLocation(clientId: string, scope: string): Promise<URL> {
  const url = new URL(`${h.issuer}/oauth/authorize`);
  const { code_challenge } = createPkcePair();
  for (const [k, v] of Object.entries({
    response_type: 'code',
    client_id: clientId,
    redirect_uri: 'http://127.0.0.1/callback',
    code_challenge,
    code_challenge_method: 'S256',
    scope,
  }))
    url.searchParams.set(k, v);
  const res = await fetch(url, { redirect: 'manual' });
  return new URL(res.headers.get('location') as string, h.issuer);
}

test('an administrator-registered scope is a ceiling: wider requests are invalid_scope', async () => {
  const client = await h.addClient({ scope: 'tools:list' });
  const location = await authorizeLocation(client.client_id, 'tools:execute');
  assert.equal(location.searchParams.get('error'), 'invalid_scope');
  assert.equal(location.searchParams.get('iss'), h.issuer);
});

test('MCP step-up: a self-registered (DCR) client may request more than it registered; consent decides', async () => {
  const client = await h.addClient({ kind: 'dcr', scope: 'tools:list' });
  const location = await authorizeLocation(client.client_id, 'tools:list tools:execute:database');
  assert.equal(location.searchParams.get('error'), null);
  assert.match(location.pathname, /^\/interaction\//, 'on to sign-in and consent');
});

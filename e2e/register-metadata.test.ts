import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { tokenRequest } from './helpers/agent.ts';
import { type InProcessServer, startInProcess } from './helpers/in-process.ts';

/**
 * Dynamic registration validates metadata with the same rules as Client ID Metadata Documents
 * (clients/metadata.ts), over real HTTP.
 */
let s: InProcessServer;

before(async () => {
  s = await startInProcess({ registration: { perIpPerHour: 1000, clientCredentials: true } });
});
after(() => s?.close());

async function register(body: unknown) {
  const response = await fetch(`${s.issuer}/oauth/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

test('RFC 7591 §2: a client_credentials-only registration needs no redirect_uris and can then get tokens', async () => {
  const { status, body } = await register({
    client_name: 'Nightly batch',
    grant_types: ['client_credentials'],
    token_endpoint_auth_method: 'client_secret_post',
    scope: 'tools:list',
  });
  assert.equal(status, 201, JSON.stringify(body));
  assert.deepEqual(body.redirect_uris, []);
  const token = await tokenRequest(s.issuer, {
    grant_type: 'client_credentials',
    client_id: body.client_id as string,
    client_secret: body.client_secret as string,
  });
  assert.equal(token.status, 200, JSON.stringify(token.body));
});

test('secure by default: without registration.clientCredentials a self-registered client may not use client_credentials', async (t) => {
  const closed = await startInProcess();
  t.after(() => closed.close());
  const response = await fetch(`${closed.issuer}/oauth/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      grant_types: ['client_credentials'],
      token_endpoint_auth_method: 'client_secret_post',
    }),
  });
  const body = await response.json();
  assert.equal(response.status, 400);
  assert.equal(body.error, 'invalid_client_metadata');
  assert.match(body.error_description, /gatehouse clients add --confidential/);
  assert.equal(await closed.store.countClients('dcr'), 0);
});

test('RFC 7591 §3.2.2: a registration with an authorization_code grant but no redirect_uris is refused with a sentence naming the field', async () => {
  const { status, body } = await register({ client_name: 'No redirect', token_endpoint_auth_method: 'none' });
  assert.equal(status, 400);
  assert.equal(body.error, 'invalid_redirect_uri');
  assert.equal(body.error_description, 'redirect_uris is required for the authorization_code grant.');
});

test('RFC 7591 §2: client_uri and logo_uri with javascript:, data:, file: or a private address are invalid_client_metadata', async () => {
  for (const uri of [
    'javascript:alert(1)',
    'data:text/html,x',
    'file:///etc/passwd',
    'https://127.0.0.1/',
    'https://[::1]/',
  ]) {
    for (const field of ['client_uri', 'logo_uri']) {
      const { status, body } = await register({ redirect_uris: ['https://app.example/cb'], [field]: uri });
      assert.equal(status, 400, `${field}=${uri}`);
      assert.equal(body.error, 'invalid_client_metadata');
      assert.match(body.error_description as string, new RegExp(`^${field} must be an https URL`));
    }
  }
});

test('RFC 7591 §2: a client_name with bidi overrides, controls or only zero-width characters is invalid_client_metadata', async () => {
  for (const name of ['Bank\u202eppa', 'a\u0007b', '\u200b\u200d']) {
    const { status, body } = await register({ redirect_uris: ['https://app.example/cb'], client_name: name });
    assert.equal(status, 400, JSON.stringify(name));
    assert.equal(body.error, 'invalid_client_metadata');
    assert.match(body.error_description as string, /^client_name /);
  }
});

test('RFC 7591 §2: grant types outside the supported list, prototype names included, are refused', async () => {
  for (const grant of [
    'constructor',
    '__proto__',
    'toString',
    'urn:ietf:params:oauth:grant-type:device_code',
  ]) {
    const { status, body } = await register({
      redirect_uris: ['https://app.example/cb'],
      grant_types: [grant],
    });
    assert.equal(status, 400, grant);
    assert.equal(body.error, 'invalid_client_metadata');
    assert.match(body.error_description as string, /^grant_types\[0\] must be one of/);
  }
});

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { authorize, tokenRequest } from './helpers/agent.ts';
import { type InProcessServer, startInProcess } from './helpers/in-process.ts';

/** `/oauth/register` (RFC 7591) over real HTTP: validation, defaults, rate limit and cap. */
let s: InProcessServer;

before(async () => {
  s = await startInProcess({ registration: { perIpPerHour: 1000 } });
  await s.addUser('frank', 'frank-password-123');
});
after(() => s?.close());

async function register(body: unknown, server = s) {
  const response = await fetch(`${server.issuer}/oauth/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return {
    status: response.status,
    headers: response.headers,
    body: (await response.json()) as Record<string, unknown>,
  };
}

describe('/oauth/register', () => {
  test('RFC 7591 §3.2.1: a public native client registers and gets 201 with its metadata and no secret', async () => {
    const { status, headers, body } = await register({
      client_name: 'Desktop MCP client',
      redirect_uris: ['http://127.0.0.1/callback', 'com.example.app:/oauth'],
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code', 'refresh_token'],
      application_type: 'native',
    });
    assert.equal(status, 201, JSON.stringify(body));
    assert.equal(headers.get('cache-control'), 'no-store');
    assert.equal(typeof body.client_id, 'string');
    assert.equal(body.client_secret, undefined);
    assert.equal(body.token_endpoint_auth_method, 'none');
    assert.equal(body.application_type, 'native');
    assert.deepEqual(body.redirect_uris, ['http://127.0.0.1/callback', 'com.example.app:/oauth']);
    assert.equal(typeof body.client_id_issued_at, 'number');
  });

  test('RFC 7591 §2: token_endpoint_auth_method defaults to client_secret_basic, which returns a secret that works', async () => {
    const { status, body } = await register({
      client_name: 'Web app',
      redirect_uris: ['https://web.example/cb'],
    });
    assert.equal(status, 201);
    assert.equal(body.token_endpoint_auth_method, 'client_secret_basic');
    assert.equal(typeof body.client_secret, 'string');
    assert.equal(body.client_secret_expires_at, 0);
    const stored = await s.store.getClient(body.client_id as string);
    assert.notEqual(stored?.secret_hash, body.client_secret, 'only a hash of the secret is stored');
  });

  test('RFC 7591 §3.1.1: unknown metadata fields are ignored, not stored or echoed', async () => {
    const { status, body } = await register({
      redirect_uris: ['https://web.example/cb'],
      token_endpoint_auth_method: 'none',
      favourite_colour: 'blue',
      software_statement_extra: { nested: true },
    });
    assert.equal(status, 201, JSON.stringify(body));
    assert.equal(body.favourite_colour, undefined);
    assert.equal(body.software_statement_extra, undefined);
  });

  test('RFC 7591 §3.2.2: redirect URIs must be https or loopback http, without fragments, never javascript: or data:', async () => {
    for (const uri of [
      'http://app.example/cb',
      'https://app.example/cb#frag',
      'javascript:alert(1)',
      'data:text/html,<script>alert(1)</script>',
      'not a url',
      '/relative/cb',
    ]) {
      const before = await s.store.countClients('dcr');
      const { status, body } = await register({ redirect_uris: [uri], token_endpoint_auth_method: 'none' });
      assert.equal(status, 400, uri);
      assert.equal(body.error, 'invalid_redirect_uri', `${uri}: ${JSON.stringify(body)}`);
      assert.equal(await s.store.countClients('dcr'), before, `nothing stored for ${uri}`);
    }
    const empty = await register({ redirect_uris: [], token_endpoint_auth_method: 'none' });
    assert.equal(empty.status, 400);
  });

  test('RFC 7591 §3.2.2: unsupported token_endpoint_auth_method, application_type or grant types are invalid_client_metadata', async () => {
    for (const extra of [
      { token_endpoint_auth_method: 'client_secret_jwt' },
      { application_type: 'desktop' },
      { grant_types: ['implicit'] },
      { grant_types: ['password'] },
      { response_types: ['token'] },
      { scope: 'tools:list nonexistent:scope' },
      { token_endpoint_auth_method: 'none', grant_types: ['client_credentials'] },
    ]) {
      const { status, body } = await register({ redirect_uris: ['https://web.example/cb'], ...extra });
      assert.equal(status, 400, JSON.stringify(extra));
      assert.equal(
        body.error,
        'invalid_client_metadata',
        `${JSON.stringify(extra)}: ${JSON.stringify(body)}`,
      );
    }
  });

  test('RFC 7591: a registered public client can complete the authorization code flow', async () => {
    const { body: client } = await register({
      client_name: 'Registered then used',
      redirect_uris: ['http://127.0.0.1/callback'],
      token_endpoint_auth_method: 'none',
      application_type: 'native',
    });
    const flow = await authorize({
      issuer: s.issuer,
      clientId: client.client_id as string,
      redirectUri: 'http://127.0.0.1:51000/callback',
      username: 'frank',
      password: 'frank-password-123',
    });
    assert.match(flow.consentPage ?? '', /Unverified application/);
    const token = await tokenRequest(s.issuer, {
      grant_type: 'authorization_code',
      code: flow.params.code as string,
      code_verifier: flow.verifier,
      redirect_uri: 'http://127.0.0.1:51000/callback',
      client_id: client.client_id as string,
    });
    assert.equal(token.status, 200, JSON.stringify(token.body));
  });

  test('registration is rate-limited per address (429 with Retry-After)', async (t) => {
    const limited = await startInProcess({ registration: { perIpPerHour: 2 } });
    t.after(() => limited.close());
    const body = { redirect_uris: ['https://web.example/cb'], token_endpoint_auth_method: 'none' };
    assert.equal((await register(body, limited)).status, 201);
    assert.equal((await register(body, limited)).status, 201);
    const third = await register(body, limited);
    assert.equal(third.status, 429);
    assert.equal(
      third.body.error,
      'temporarily_unavailable',
      'RFC 6585 §4: a 429; slow_down is the device flow code',
    );
    assert.match(third.headers.get('retry-after') ?? '', /^\d+$/);
    assert.equal(await limited.store.countClients('dcr'), 2);
  });

  test('registration is capped at registration.maxClients', async (t) => {
    const capped = await startInProcess({ registration: { maxClients: 1 } });
    t.after(() => capped.close());
    const body = { redirect_uris: ['https://web.example/cb'], token_endpoint_auth_method: 'none' };
    assert.equal((await register(body, capped)).status, 201);
    const second = await register(body, capped);
    assert.equal(second.status, 503);
    assert.equal(second.body.error, 'temporarily_unavailable');
    assert.equal(await capped.store.countClients('dcr'), 1);
  });
});

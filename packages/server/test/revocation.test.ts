import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { decodeJwt } from 'jose';
import { basicAuth, frozenClock, type Harness, startAuthorizationServer } from './harness.ts';

const clock = frozenClock();
let h: Harness;
let resourceServer: { client_id: string; secret?: string | undefined };
before(async () => {
  h = await startAuthorizationServer({ now: clock.now });
  resourceServer = await h.addClient({
    confidential: true,
    redirect_uris: [],
    grant_types: ['client_credentials'],
    scope: 'tools:list',
    resource_server: true,
  });
});
after(() => h.close());

async function introspect(token: string) {
  const res = await h.post(
    '/oauth/introspect',
    { token },
    basicAuth(resourceServer.client_id, resourceServer.secret as string),
  );
  assert.equal(res.status, 200);
  return (await res.json()) as Record<string, unknown>;
}

describe('revocation (RFC 7009) and introspection (RFC 7662)', () => {
  test('RFC 7662 §2.2: an active access token is introspected with its claims', async () => {
    const client = await h.addClient();
    const user = await h.addUser('intro-user');
    const tokens = await h.authorize(client, user, { scope: 'tools:list' });
    const info = await introspect(tokens.access_token);
    assert.equal(info.active, true);
    assert.equal(info.scope, 'tools:list');
    assert.equal(info.client_id, client.client_id);
    assert.equal(info.sub, user.id);
    assert.equal(info.aud, `${h.issuer}/mcp`);
    assert.equal(info.iss, h.issuer);
    assert.equal(info.token_type, 'Bearer');
    assert.equal(typeof info.exp, 'number');
    const refresh = await introspect(tokens.refresh_token);
    assert.equal(refresh.active, true);
    assert.equal(refresh.token_type, 'refresh_token');
  });

  test('RFC 7662 §2.1: introspection needs an authenticated caller', async () => {
    const client = await h.addClient();
    const anonymous = await h.post('/oauth/introspect', { token: 'x' });
    assert.equal(anonymous.status, 401);
    const publicClient = await h.post('/oauth/introspect', { token: 'x', client_id: client.client_id });
    assert.equal(publicClient.status, 401);
  });

  test('a revoked access token is inactive and rejected by the in-process revocation list before the response returns', async () => {
    const client = await h.addClient();
    const user = await h.addUser('revoke-at-user');
    const tokens = await h.authorize(client, user);
    const claims = decodeJwt(tokens.access_token) as { jti: string; gid: string };
    const res = await h.post('/oauth/revoke', {
      token: tokens.access_token,
      token_type_hint: 'refresh_token',
      client_id: client.client_id,
    });
    assert.equal(res.status, 200);
    assert.ok(h.as.revocations.isRevoked(claims), 'the hint is not trusted: the access token is revoked');
    assert.equal((await introspect(tokens.access_token)).active, false);
    assert.equal(
      (await introspect(tokens.refresh_token)).active,
      true,
      'revoking an access token leaves the grant',
    );
  });

  test('revoking a refresh token revokes its grant: every access and refresh token it issued', async () => {
    const client = await h.addClient();
    const user = await h.addUser('revoke-rt-user');
    const tokens = await h.authorize(client, user);
    const res = await h.post('/oauth/revoke', { token: tokens.refresh_token, client_id: client.client_id });
    assert.equal(res.status, 200);
    assert.equal((await introspect(tokens.access_token)).active, false);
    assert.equal((await introspect(tokens.refresh_token)).active, false);
    const refresh = await h.post('/oauth/token', {
      grant_type: 'refresh_token',
      refresh_token: tokens.refresh_token,
      client_id: client.client_id,
    });
    assert.equal(((await refresh.json()) as { error: string }).error, 'invalid_grant');
    const feed = (await (await fetch(`${h.issuer}/oauth/revocations`)).json()) as {
      revoked: { gid?: string }[];
    };
    assert.ok(feed.revoked.some((r) => r.gid === (decodeJwt(tokens.access_token) as { gid: string }).gid));
  });

  test("RFC 7009 §2.2: unknown tokens and other clients' tokens get 200 and change nothing", async () => {
    const client = await h.addClient();
    const other = await h.addClient();
    const user = await h.addUser('revoke-other-user');
    const tokens = await h.authorize(client, user);
    assert.equal(
      (await h.post('/oauth/revoke', { token: 'nonsense', client_id: client.client_id })).status,
      200,
    );
    assert.equal(
      (await h.post('/oauth/revoke', { token: tokens.refresh_token, client_id: other.client_id })).status,
      200,
    );
    assert.equal(
      (await h.post('/oauth/revoke', { token: tokens.access_token, client_id: other.client_id })).status,
      200,
    );
    assert.equal((await introspect(tokens.refresh_token)).active, true);
    assert.equal((await introspect(tokens.access_token)).active, true);
  });

  test('RFC 7009 §2.1: confidential clients must authenticate to revoke', async () => {
    const client = await h.addClient({ confidential: true });
    const res = await h.post('/oauth/revoke', { token: 'x', client_id: client.client_id });
    assert.equal(res.status, 401);
    assert.equal(((await res.json()) as { error: string }).error, 'invalid_client');
  });

  test('expired access tokens introspect as inactive', async () => {
    const client = await h.addClient();
    const user = await h.addUser('expired-user');
    const tokens = await h.authorize(client, user);
    clock.advance(3601);
    assert.equal((await introspect(tokens.access_token)).active, false);
  });
});

test('a client removed mid-flow gets no tokens for its code, even while its record is cached', async () => {
  const client = await h.addClient();
  const user = await h.addUser('removed-client-user');
  await h.authorize(client, user); // warms the client cache
  const removed = h.authorize(client, user);
  // Remove the client the way `gatehouse clients remove` does, before the code exchange.
  await h.store.deleteClient(client.client_id);
  await assert.rejects(removed, /token failed: 401/);
});

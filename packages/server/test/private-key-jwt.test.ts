import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';
import { frozenClock, type Harness, startAuthorizationServer } from './harness.ts';

/**
 * private_key_jwt (RFC 7523) with keys published at a jwks_uri served on 127.0.0.1: what the
 * assertion must say, and when the server fetches the keys. The development opt-ins let the AS
 * fetch from loopback over http.
 */
const clock = frozenClock();
let h: Harness;
let jwksUrl: string;
let published: JWK[] = [];
let fetches = 0;
const jwksServer = createServer((_req, res) => {
  fetches++;
  res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'max-age=86400' });
  res.end(JSON.stringify({ keys: published }));
});

type Key = Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];

async function newKey(kid: string): Promise<{ jwk: JWK; privateKey: Key }> {
  const { publicKey, privateKey } = await generateKeyPair('ES256');
  return { jwk: { ...(await exportJWK(publicKey)), kid, alg: 'ES256' }, privateKey };
}

before(async () => {
  await new Promise<void>((resolve) => jwksServer.listen(0, '127.0.0.1', resolve));
  jwksUrl = `http://127.0.0.1:${(jwksServer.address() as AddressInfo).port}/jwks.json`;
  h = await startAuthorizationServer({
    now: clock.now,
    clientIdMetadataDocuments: { dangerouslyAllowPrivateNetworks: true, dangerouslyAllowInsecureHttp: true },
  });
});
after(async () => {
  await h.close();
  jwksServer.closeAllConnections();
  await new Promise((resolve) => jwksServer.close(resolve));
});

/** Each client gets its own jwks_uri, so the tests do not share cache entries. */
async function jwtClient() {
  return h.addClient({
    token_endpoint_auth_method: 'private_key_jwt',
    grant_types: ['client_credentials'],
    scope: 'tools:list',
    jwks_uri: `${jwksUrl}?client=${crypto.randomUUID()}`,
  });
}

function assertion(
  clientId: string,
  key: Key,
  kid: string,
  claims: { aud?: string | string[]; iss?: string; exp?: number } = {},
) {
  return new SignJWT({})
    .setProtectedHeader({ alg: 'ES256', kid })
    .setIssuer(claims.iss ?? clientId)
    .setSubject(clientId)
    .setAudience(claims.aud ?? h.issuer)
    .setIssuedAt(clock.now())
    .setExpirationTime(claims.exp ?? clock.now() + 60)
    .setJti(crypto.randomUUID())
    .sign(key);
}

async function token(clientAssertion: string) {
  const res = await h.post('/oauth/token', {
    grant_type: 'client_credentials',
    client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
    client_assertion: clientAssertion,
  });
  return { status: res.status, body: (await res.json()) as { error?: string; error_description?: string } };
}

test("draft-ietf-oauth-rfc7523bis: the assertion's aud must be the issuer itself, never the token endpoint URL", async () => {
  const k1 = await newKey('k1');
  published = [k1.jwk];
  const client = await jwtClient();
  for (const aud of [
    `${h.issuer}/oauth/token`,
    [h.issuer, `${h.issuer}/oauth/token`],
    'https://other.example',
  ]) {
    const refused = await token(await assertion(client.client_id, k1.privateKey, 'k1', { aud }));
    assert.equal(refused.status, 401, JSON.stringify(aud));
    assert.equal(refused.body.error, 'invalid_client');
  }
  assert.equal((await token(await assertion(client.client_id, k1.privateKey, 'k1'))).status, 200);
});

test('RFC 7523 §3: claims are checked before the jwks_uri is fetched, so a bad assertion fetches nothing', async () => {
  const k1 = await newKey('k1');
  published = [k1.jwk];
  const client = await jwtClient();
  const before = fetches;
  for (const bad of [
    'not.a.jwt',
    await assertion(client.client_id, k1.privateKey, 'k1', { aud: `${h.issuer}/oauth/token` }),
    await assertion(client.client_id, k1.privateKey, 'k1', { iss: 'someone-else' }),
    await assertion(client.client_id, k1.privateKey, 'k1', { exp: clock.now() - 120 }),
    await assertion(client.client_id, k1.privateKey, 'k1', { exp: clock.now() + 3600 }),
  ]) {
    assert.equal((await token(bad)).status, 401);
  }
  assert.equal(fetches, before);
});

test('RFC 7591 §2 jwks_uri: keys are cached (at most 5 minutes), and an unknown kid refetches at most once per cooldown', async () => {
  const k1 = await newKey('k1');
  published = [k1.jwk];
  const client = await jwtClient();
  const start = fetches;
  for (let i = 0; i < 3; i++)
    assert.equal((await token(await assertion(client.client_id, k1.privateKey, 'k1'))).status, 200);
  assert.equal(fetches - start, 1, 'three assertions, one fetch');

  // The client rotates its key: the new kid is not cached, so the keys are fetched again at once.
  const k2 = await newKey('k2');
  published = [k1.jwk, k2.jwk];
  assert.equal((await token(await assertion(client.client_id, k2.privateKey, 'k2'))).status, 200);
  assert.equal(fetches - start, 2);

  // Made-up kids within the cooldown fetch nothing.
  const stranger = await newKey('k3');
  for (let i = 0; i < 3; i++) {
    assert.equal((await token(await assertion(client.client_id, stranger.privateKey, 'k3'))).status, 401);
  }
  assert.equal(fetches - start, 2);

  // max-age=86400 is bounded to five minutes: after that the set is fetched again.
  clock.advance(301);
  const later = await token(await assertion(client.client_id, k2.privateKey, 'k2'));
  assert.equal(later.status, 200, JSON.stringify(later.body));
  assert.equal(fetches - start, 3);
});

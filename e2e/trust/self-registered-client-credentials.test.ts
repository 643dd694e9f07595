import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { startInProcess } from '../helpers/in-process.ts';
import { startLoopbackServer } from '../helpers/loopback.ts';

/**
 * No person approves what client_credentials gets, so a client that registered itself gets such
 * tokens only where the operator opted in: neither by DCR nor by a Client ID Metadata Document
 * naming its own keys (served here on loopback, with the development opt-ins for loopback only).
 */
test('RFC 6749 §4.4, secure by default: a metadata-document client with its own keys gets no client_credentials token', async (t) => {
  const { publicKey, privateKey } = await generateKeyPair('ES256');
  const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', use: 'sig', alg: 'ES256' };
  let docsUrl = '';
  const docs = await startLoopbackServer((req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({
        client_id: `${docsUrl}${req.url}`,
        client_name: 'Anybody',
        grant_types: ['client_credentials'],
        token_endpoint_auth_method: 'private_key_jwt',
        jwks: { keys: [jwk] },
        scope: 'tools:execute resources:read',
      }),
    );
  });
  docsUrl = docs.url;
  t.after(() => docs.close());
  const s = await startInProcess({
    clientIdMetadataDocuments: { dangerouslyAllowPrivateNetworks: true, dangerouslyAllowInsecureHttp: true },
  });
  t.after(() => s.close());
  const clientId = `${docs.url}/client.json`;
  const assertion = await new SignJWT({ jti: randomUUID() })
    .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
    .setIssuer(clientId)
    .setSubject(clientId)
    .setAudience(s.issuer)
    .setIssuedAt()
    .setExpirationTime('2m')
    .sign(privateKey);
  const response = await fetch(`${s.url}/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: assertion,
    }),
  });
  const body = await response.json();
  assert.equal(response.status, 400, JSON.stringify(body));
  assert.equal(body.error, 'unauthorized_client');
  assert.equal(body.access_token, undefined);
});

test('RFC 6749 §4.4: switching registration.clientCredentials off stops self-registered clients at their next token request', async (t) => {
  const s = await startInProcess({ registration: { clientCredentials: false } });
  t.after(() => s.close());
  // A client registered while the option was on: its record allows the grant.
  const secret = 'gatehouse_cs_a-secret-value-for-this-test-only';
  await s.addClient({
    client_id: 'dcr-batch',
    kind: 'dcr',
    redirect_uris: [],
    token_endpoint_auth_method: 'client_secret_post',
    grant_types: ['client_credentials'],
    scope: 'tools:list',
    secret_hash: s.as.context.secrets.hash(secret),
  });
  const response = await fetch(`${s.url}/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: 'dcr-batch',
      client_secret: secret,
    }),
  });
  assert.equal(response.status, 400);
  assert.equal((await response.json()).error, 'unauthorized_client');
});

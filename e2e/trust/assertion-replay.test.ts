import assert from 'node:assert/strict';
import { test } from 'node:test';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { startInProcess, TestClock } from '../helpers/in-process.ts';

const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

test('RFC 7523 §3 item 7: a client assertion is used once, also across the store counter window edge', async (t) => {
  const { publicKey, privateKey } = await generateKeyPair('ES256');
  const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256' };
  const base = Math.floor(Date.now() / 1000);
  // The last second of one of the store's 600 s counter windows.
  const clock = new TestClock(base - (base % 600) + 599);
  const s = await startInProcess({ now: clock.now });
  t.after(() => s.close());
  const clientId = 'batch-with-keys';
  await s.addClient({
    client_id: clientId,
    redirect_uris: [],
    token_endpoint_auth_method: 'private_key_jwt',
    grant_types: ['client_credentials'],
    jwks: { keys: [jwk] },
  });
  const assertion = await new SignJWT({ jti: 'the-same-jti' })
    .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
    .setIssuer(clientId)
    .setSubject(clientId)
    .setAudience(s.issuer)
    .setIssuedAt(clock.now())
    .setExpirationTime(clock.now() + 280)
    .sign(privateKey);
  const use = async () => {
    const response = await fetch(`${s.url}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_assertion_type: ASSERTION_TYPE,
        client_assertion: assertion,
      }),
    });
    await response.body?.cancel();
    return response.status;
  };
  assert.equal(await use(), 200);
  assert.equal(await use(), 401, 'a replay in the same window');
  clock.advance(2);
  assert.equal(await use(), 401, 'a replay in the next window');
});

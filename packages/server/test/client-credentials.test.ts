import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { decodeJwt, exportJWK, generateKeyPair, SignJWT } from 'jose';
import { basicAuth, frozenClock, type Harness, startAuthorizationServer } from './harness.ts';

const clock = frozenClock();
let h: Harness;
before(async () => {
  h = await startAuthorizationServer({ now: clock.now });
});
after(() => h.close());

describe('client_credentials (RFC 6749 §4.4)', () => {
  test('a confidential client authenticated with client_secret_basic gets a token whose sub is the client, and no refresh token', async () => {
    const client = await h.addClient({ confidential: true, scope: 'tools:list tools:execute' });
    const res = await h.post(
      '/oauth/token',
      { grant_type: 'client_credentials', scope: 'tools:execute:database' },
      basicAuth(client.client_id, client.secret as string),
    );
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('cache-control'), 'no-store');
    const body = (await res.json()) as Record<string, unknown>;
    assert.equal(body.refresh_token, undefined);
    assert.equal(body.scope, 'tools:execute:database');
    const claims = decodeJwt(body.access_token as string);
    assert.equal(claims.sub, client.client_id);
    assert.equal(claims.client_id, client.client_id);
    assert.equal(claims.aud, `${h.issuer}/mcp`);
  });

  test('client_secret_post works too; without scope the registered scopes are granted', async () => {
    const client = await h.addClient({ confidential: true, scope: 'tools:list' });
    const res = await h.post('/oauth/token', {
      grant_type: 'client_credentials',
      client_id: client.client_id,
      client_secret: client.secret as string,
    });
    assert.equal(res.status, 200);
    assert.equal(((await res.json()) as { scope: string }).scope, 'tools:list');
  });

  test('scopes beyond the registration are invalid_scope', async () => {
    const client = await h.addClient({ confidential: true, scope: 'tools:list' });
    const res = await h.post(
      '/oauth/token',
      { grant_type: 'client_credentials', scope: 'tools:execute' },
      basicAuth(client.client_id, client.secret as string),
    );
    assert.equal(res.status, 400);
    assert.equal(((await res.json()) as { error: string }).error, 'invalid_scope');
  });

  test('RFC 6749 §5.2: a wrong secret via Basic is 401 invalid_client with a Basic challenge', async () => {
    const client = await h.addClient({ confidential: true, scope: 'tools:list' });
    const res = await h.post(
      '/oauth/token',
      { grant_type: 'client_credentials' },
      basicAuth(client.client_id, 'wrong'),
    );
    assert.equal(res.status, 401);
    assert.match(res.headers.get('www-authenticate') ?? '', /^Basic realm=/);
    assert.equal(((await res.json()) as { error: string }).error, 'invalid_client');
    const post = await h.post('/oauth/token', {
      grant_type: 'client_credentials',
      client_id: client.client_id,
      client_secret: 'wrong',
    });
    assert.equal(post.status, 401);
    assert.equal(post.headers.get('www-authenticate'), null, 'no Basic challenge when Basic was not used');
  });

  test('public clients cannot use client_credentials', async () => {
    const client = await h.addClient({ grant_types: ['authorization_code', 'client_credentials'] });
    const res = await h.post('/oauth/token', {
      grant_type: 'client_credentials',
      client_id: client.client_id,
    });
    assert.equal(((await res.json()) as { error: string }).error, 'unauthorized_client');
  });

  test("RFC 7523: private_key_jwt with the client's registered JWKS; a replayed assertion is refused", async () => {
    const { publicKey, privateKey } = await generateKeyPair('ES256');
    const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256' };
    const client = await h.addClient({
      token_endpoint_auth_method: 'private_key_jwt',
      grant_types: ['client_credentials'],
      scope: 'tools:list',
      jwks: { keys: [jwk] },
    });
    const assertion = await new SignJWT({})
      .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
      .setIssuer(client.client_id)
      .setSubject(client.client_id)
      .setAudience(h.issuer)
      .setIssuedAt(clock.now())
      .setExpirationTime(clock.now() + 60)
      .setJti(crypto.randomUUID())
      .sign(privateKey);
    const form = {
      grant_type: 'client_credentials',
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: assertion,
    };
    const ok = await h.post('/oauth/token', form);
    assert.equal(ok.status, 200, await ok.clone().text());
    const replay = await h.post('/oauth/token', form);
    assert.equal(replay.status, 401);
    assert.equal(((await replay.json()) as { error: string }).error, 'invalid_client');

    const { privateKey: otherKey } = await generateKeyPair('ES256');
    const forged = await new SignJWT({})
      .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
      .setIssuer(client.client_id)
      .setSubject(client.client_id)
      .setAudience(h.issuer)
      .setExpirationTime(clock.now() + 60)
      .setJti(crypto.randomUUID())
      .sign(otherKey);
    const bad = await h.post('/oauth/token', { ...form, client_assertion: forged });
    assert.equal(bad.status, 401);
  });
});

describe('token endpoint failure limit', () => {
  test('an address that keeps failing client authentication gets 429 (temporarily_unavailable, never the device flow code slow_down), counted in the store', async () => {
    const limited = await startAuthorizationServer({ now: clock.now, tokenFailuresPer15Minutes: 3 });
    try {
      const client = await limited.addClient({ confidential: true, scope: 'tools:list' });
      const statuses: number[] = [];
      for (let i = 0; i < 5; i++) {
        const res = await limited.post(
          '/oauth/token',
          { grant_type: 'client_credentials' },
          basicAuth(client.client_id, 'wrong'),
        );
        statuses.push(res.status);
      }
      assert.deepEqual(statuses, [401, 401, 401, 429, 429]);
      const good = await limited.post(
        '/oauth/token',
        { grant_type: 'client_credentials' },
        basicAuth(client.client_id, client.secret as string),
      );
      assert.equal(good.status, 429, 'refused from memory while the window lasts');
      assert.ok(Number(good.headers.get('retry-after')) > 0);
      clock.advance(15 * 60);
      const later = await limited.post(
        '/oauth/token',
        { grant_type: 'client_credentials' },
        basicAuth(client.client_id, client.secret as string),
      );
      assert.equal(later.status, 200, 'the next window starts afresh');
    } finally {
      await limited.close();
    }
  });
});

describe('client_credentials standing grants', () => {
  test('tokens belong to one standing grant per client; revoking it cuts them at once, and the next token gets a new grant', async () => {
    const client = await h.addClient({ confidential: true, scope: 'tools:list' });
    const issue = async () => {
      const res = await h.post(
        '/oauth/token',
        { grant_type: 'client_credentials' },
        basicAuth(client.client_id, client.secret as string),
      );
      assert.equal(res.status, 200);
      return decodeJwt(((await res.json()) as { access_token: string }).access_token) as {
        jti: string;
        gid: string;
      };
    };
    const a = await issue();
    const b = await issue();
    assert.equal(a.gid, b.gid, 'one grant, no row per token');
    assert.equal((await h.store.listGrants({ client_id: client.client_id })).length, 1);
    await h.as.context.revokeGrant(a.gid, 'test');
    assert.ok(h.as.revocations.isRevoked(a) && h.as.revocations.isRevoked(b));
    const c = await issue();
    assert.notEqual(c.gid, a.gid);
    assert.ok(!h.as.revocations.isRevoked(c), 'a new token after the revocation works');
  });

  test('a removed client gets no new grant, even while its record is cached', async () => {
    const client = await h.addClient({ confidential: true, scope: 'tools:list' });
    const auth = basicAuth(client.client_id, client.secret as string);
    const first = await h.post('/oauth/token', { grant_type: 'client_credentials' }, auth);
    const { gid } = decodeJwt(((await first.json()) as { access_token: string }).access_token) as {
      gid: string;
    };
    // What `gatehouse clients remove` does: revoke the client's grants, delete the client.
    await h.as.context.revokeGrant(gid, 'client removed');
    await h.store.deleteClient(client.client_id);
    const after = await h.post('/oauth/token', { grant_type: 'client_credentials' }, auth);
    assert.equal(after.status, 401);
  });
});

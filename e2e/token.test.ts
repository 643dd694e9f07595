import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createRemoteJWKSet, decodeJwt, jwtVerify } from 'jose';
import { Agent, authorize, basicAuth, tokenRequest } from './helpers/agent.ts';
import { type InProcessServer, startInProcess, TestClock } from './helpers/in-process.ts';

/**
 * `/oauth/token` with grant_type=authorization_code over real HTTP: PKCE, single use, bindings,
 * client authentication, and the JWT access token itself (verified against the JWKS with jose).
 */
let s: InProcessServer;
const clock = new TestClock(Math.floor(Date.now() / 1000));
const PUBLIC = 'public-client';
const CONFIDENTIAL = 'confidential-client';
const OTHER = 'other-client';
const SECRET = 'gh_cs_a-confidential-test-secret-value';
const CALLBACK = 'http://127.0.0.1/callback';
const user = { username: 'bob', password: 'a sufficiently long password' };

before(async () => {
  s = await startInProcess({ now: clock.now });
  await s.addUser(user.username, user.password);
  await s.addClient({ client_id: PUBLIC, client_name: 'Public', redirect_uris: [CALLBACK] });
  await s.addClient({ client_id: OTHER, client_name: 'Other', redirect_uris: [CALLBACK] });
  await s.addClient({
    client_id: CONFIDENTIAL,
    client_name: 'Confidential',
    redirect_uris: [CALLBACK],
    token_endpoint_auth_method: 'client_secret_basic',
    secret_hash: s.as.context.secrets.hash(SECRET),
  });
});
after(() => s?.close());

/** One browser for the whole file: it signs in once, as a person would, and keeps its session. */
const agent = new Agent();

/** A fresh code for `clientId`, and the verifier that redeems it. */
async function code(clientId = PUBLIC, scope = 'tools:list resources:read') {
  const flow = await authorize({ issuer: s.issuer, clientId, redirectUri: CALLBACK, scope, agent, ...user });
  assert.ok(flow.params.code, JSON.stringify(flow.params));
  return { code: flow.params.code, verifier: flow.verifier };
}

const redeem = (
  c: { code: string; verifier: string },
  extra: Record<string, string> = {},
  headers: Record<string, string> = {},
) =>
  tokenRequest(
    s.issuer,
    {
      grant_type: 'authorization_code',
      code: c.code,
      code_verifier: c.verifier,
      redirect_uri: CALLBACK,
      ...extra,
    },
    headers,
  );

describe('/oauth/token: authorization_code', () => {
  test('RFC 6749 §5.1, RFC 9068 §2: a public client gets a verifiable at+jwt ES256 access token, expires_in 3600, scope and a refresh token, with Cache-Control: no-store', async () => {
    const c = await code();
    const { status, headers, body } = await redeem(c, { client_id: PUBLIC });
    assert.equal(status, 200, JSON.stringify(body));
    assert.equal(headers.get('cache-control'), 'no-store');
    assert.match(headers.get('content-type') ?? '', /^application\/json/);
    assert.equal(body.token_type, 'Bearer');
    assert.equal(body.expires_in, 3600);
    assert.equal(body.scope, 'tools:list resources:read');
    assert.equal(typeof body.refresh_token, 'string');

    const jwks = createRemoteJWKSet(new URL(`${s.issuer}/.well-known/jwks.json`));
    const { payload, protectedHeader } = await jwtVerify(body.access_token as string, jwks, {
      issuer: s.issuer,
      audience: `${s.issuer}/mcp`,
      typ: 'at+jwt',
      algorithms: ['ES256'],
      currentDate: new Date(clock.now() * 1000),
    });
    assert.equal(protectedHeader.alg, 'ES256');
    assert.equal(protectedHeader.typ, 'at+jwt');
    assert.equal(payload.client_id, PUBLIC);
    assert.equal(payload.scope, 'tools:list resources:read');
    assert.equal(typeof payload.jti, 'string');
    assert.equal(typeof payload.gid, 'string');
    assert.equal(typeof payload.sub, 'string');
    assert.equal(payload.iat, clock.now());
    assert.equal(payload.exp, clock.now() + 3600);
  });

  test('RFC 7636 §4.6: a wrong code_verifier is refused with invalid_grant, and the code is then spent', async () => {
    const c = await code();
    const wrong = await redeem({ code: c.code, verifier: 'x'.repeat(43) }, { client_id: PUBLIC });
    assert.equal(wrong.status, 400);
    assert.equal(wrong.body.error, 'invalid_grant');
    const right = await redeem(c, { client_id: PUBLIC });
    assert.equal(right.status, 400);
    assert.equal(right.body.error, 'invalid_grant');
  });

  test('RFC 7636 §4.5: a missing code_verifier is refused with invalid_request', async () => {
    const c = await code();
    const { status, body } = await tokenRequest(s.issuer, {
      grant_type: 'authorization_code',
      code: c.code,
      redirect_uri: CALLBACK,
      client_id: PUBLIC,
    });
    assert.equal(status, 400);
    assert.equal(body.error, 'invalid_request');
  });

  test('OAuth 2.1 §4.1.3, RFC 6749 §10.5: a replayed code is refused and revokes what it issued (in process and in the revocation feed)', async () => {
    const before = (await (await fetch(`${s.issuer}/oauth/revocations`)).json()) as { cursor: string };
    const c = await code();
    const first = await redeem(c, { client_id: PUBLIC });
    assert.equal(first.status, 200);
    const claims = decodeJwt(first.body.access_token as string) as { jti: string; gid: string };
    assert.equal(s.as.revocations.isRevoked(claims), false);

    const replay = await redeem(c, { client_id: PUBLIC });
    assert.equal(replay.status, 400);
    assert.equal(replay.body.error, 'invalid_grant');
    assert.equal(s.as.revocations.isRevoked(claims), true, 'the first access token must be revoked');

    const feed = (await (await fetch(`${s.issuer}/oauth/revocations?after=${before.cursor}`)).json()) as {
      revoked: { gid?: string; jti?: string; exp: number }[];
    };
    const entry = feed.revoked.find((e) => e.gid === claims.gid);
    assert.ok(entry, `the feed must list grant ${claims.gid}: ${JSON.stringify(feed)}`);
    assert.ok(entry.exp >= clock.now() + 3600 - 1);
    // The refresh token of the revoked grant is dead too.
    const refresh = await tokenRequest(s.issuer, {
      grant_type: 'refresh_token',
      refresh_token: first.body.refresh_token as string,
      client_id: PUBLIC,
    });
    assert.equal(refresh.status, 400);
    assert.equal(refresh.body.error, 'invalid_grant');
  });

  test('OAuth 2.1 §4.1.3: redirect_uri must repeat the authorization request exactly', async () => {
    const c = await code();
    const other = await redeem(c, { client_id: PUBLIC, redirect_uri: 'http://127.0.0.1/other' });
    assert.equal(other.status, 400);
    assert.equal(other.body.error, 'invalid_grant');

    const c2 = await code();
    const { status, body } = await tokenRequest(s.issuer, {
      grant_type: 'authorization_code',
      code: c2.code,
      code_verifier: c2.verifier,
      client_id: PUBLIC,
    });
    assert.equal(status, 400, 'omitting redirect_uri that the authorization request named must fail');
    assert.equal(body.error, 'invalid_grant');
  });

  test('RFC 6749 §4.1.3: a code issued to one client is refused to another', async () => {
    const c = await code(PUBLIC);
    const { status, body } = await redeem(c, { client_id: OTHER });
    assert.equal(status, 400);
    assert.equal(body.error, 'invalid_grant');
  });

  test('OAuth 2.1 §4.1.2: a code expires (60 s by default)', async () => {
    const c = await code();
    clock.advance(61);
    const { status, body } = await redeem(c, { client_id: PUBLIC });
    assert.equal(status, 400);
    assert.equal(body.error, 'invalid_grant');
  });

  test('RFC 6749 §2.3.1: a confidential client authenticates with client_secret_basic', async () => {
    const c = await code(CONFIDENTIAL);
    const { status, body } = await redeem(c, {}, basicAuth(CONFIDENTIAL, SECRET));
    assert.equal(status, 200, JSON.stringify(body));
    assert.equal(decodeJwt(body.access_token as string).client_id, CONFIDENTIAL);
  });

  test('RFC 6749 §2.3.1: a confidential client authenticates with client_secret_post', async () => {
    const c = await code(CONFIDENTIAL);
    const { status, body } = await redeem(c, { client_id: CONFIDENTIAL, client_secret: SECRET });
    assert.equal(status, 200, JSON.stringify(body));
  });

  test('RFC 6749 §5.2: a wrong secret via Basic gets 401 invalid_client with WWW-Authenticate: Basic', async () => {
    const c = await code(CONFIDENTIAL);
    const { status, headers, body } = await redeem(c, {}, basicAuth(CONFIDENTIAL, `${SECRET}x`));
    assert.equal(status, 401);
    assert.equal(body.error, 'invalid_client');
    assert.match(headers.get('www-authenticate') ?? '', /^Basic realm="/);
    assert.equal(headers.get('cache-control'), 'no-store');
    // The code was not spent by a request from someone who could not authenticate.
    const ok = await redeem(c, {}, basicAuth(CONFIDENTIAL, SECRET));
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
  });

  test('RFC 6749 §5.2: a wrong or missing secret via the form gets 401 invalid_client', async () => {
    const c = await code(CONFIDENTIAL);
    const wrong = await redeem(c, { client_id: CONFIDENTIAL, client_secret: 'nope' });
    assert.equal(wrong.status, 401);
    assert.equal(wrong.body.error, 'invalid_client');
    const missing = await redeem(c, { client_id: CONFIDENTIAL });
    assert.equal(missing.status, 401);
    assert.equal(missing.body.error, 'invalid_client');
  });

  test('RFC 6749 §2.3: a public client that sends a secret is refused', async () => {
    const c = await code(PUBLIC);
    const { status, body } = await redeem(c, { client_id: PUBLIC, client_secret: 'made-up' });
    assert.equal(status, 401);
    assert.equal(body.error, 'invalid_client');
  });
});

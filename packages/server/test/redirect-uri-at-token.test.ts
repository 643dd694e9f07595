import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createPkcePair, defaultScopes } from '@gatehouse/core';
import { frozenClock, type Harness, startAuthorizationServer } from './harness.ts';

/**
 * RFC 6749 §4.1.3: the token request must repeat `redirect_uri` only "if the redirect_uri
 * parameter was included in the authorization request". When it was omitted, the code went to the
 * client's single registered redirect URI (OAuth 2.1 §4.1.1), and naming that one is no mismatch.
 */
const REGISTERED = 'http://127.0.0.1/callback';
const clock = frozenClock();
let h: Harness;
before(async () => {
  h = await startAuthorizationServer({ now: clock.now });
});
after(() => h.close());

/** Signs in and approves an authorization request that names no redirect_uri; returns the code. */
async function codeWithoutRedirectUri(clientId: string, user: { username: string; password: string }) {
  const { code_verifier, code_challenge } = createPkcePair();
  const cookies: string[] = [];
  const keep = (res: Response) => {
    for (const c of res.headers.getSetCookie()) cookies.push(c.split(';')[0] as string);
    return res;
  };
  const headers = () => ({ cookie: cookies.join('; ') });
  const get = async (path: string) =>
    keep(await fetch(new URL(path, h.issuer), { headers: headers(), redirect: 'manual' }));
  const csrfOf = async (res: Response) => /name="csrf" value="([^"]+)"/.exec(await res.text())?.[1] as string;
  const url = new URL('/oauth/authorize', h.issuer);
  url.search = new URLSearchParams({
    response_type: 'code',
    client_id: clientId,
    code_challenge,
    code_challenge_method: 'S256',
  }).toString();
  const interaction = (await get(url.href)).headers.get('location') as string;
  const login = keep(
    await h.post(
      `${interaction}/login`,
      { csrf: await csrfOf(await get(interaction)), username: user.username, password: user.password },
      headers(),
    ),
  );
  assert.equal(login.status, 303);
  const approved = await h.post(
    `${interaction}/consent`,
    {
      csrf: await csrfOf(await get(interaction)),
      decision: 'approve',
      // Everything the request (the default scope) asked for, as each box is ticked by default.
      scope: defaultScopes.map((s) => s.name).join(' '),
    },
    headers(),
  );
  const location = new URL(approved.headers.get('location') as string);
  assert.equal(location.origin + location.pathname, REGISTERED, 'the code went to the registered URI');
  return { code: location.searchParams.get('code') as string, code_verifier };
}

describe('redirect_uri at the token endpoint (RFC 6749 §4.1.3)', () => {
  test('RFC 6749 §4.1.3: omitted at /authorize, the registered redirect URI sent at /token is accepted', async () => {
    const client = await h.addClient({ redirect_uris: [REGISTERED] });
    const user = await h.addUser('omitted-then-sent');
    const issued = await codeWithoutRedirectUri(client.client_id, user);
    const res = await h.post('/oauth/token', {
      grant_type: 'authorization_code',
      client_id: client.client_id,
      redirect_uri: REGISTERED,
      ...issued,
    });
    assert.equal(res.status, 200, await res.clone().text());
  });

  test('RFC 6749 §4.1.3: omitted at /authorize and omitted at /token is accepted', async () => {
    const client = await h.addClient({ redirect_uris: [REGISTERED] });
    const user = await h.addUser('omitted-twice');
    const issued = await codeWithoutRedirectUri(client.client_id, user);
    const res = await h.post('/oauth/token', {
      grant_type: 'authorization_code',
      client_id: client.client_id,
      ...issued,
    });
    assert.equal(res.status, 200);
  });

  test('RFC 6749 §4.1.3: omitted at /authorize, any other redirect URI at /token is invalid_grant', async () => {
    const client = await h.addClient({ redirect_uris: [REGISTERED] });
    const user = await h.addUser('omitted-then-other');
    const issued = await codeWithoutRedirectUri(client.client_id, user);
    // A loopback URI with a port matches the registration at /authorize (RFC 8252 §7.3), yet the
    // code was not sent there.
    const res = await h.post('/oauth/token', {
      grant_type: 'authorization_code',
      client_id: client.client_id,
      redirect_uri: 'http://127.0.0.1:8080/callback',
      ...issued,
    });
    assert.equal(res.status, 400);
    assert.equal(((await res.json()) as { error: string }).error, 'invalid_grant');
  });
});

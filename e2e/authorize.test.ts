import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { decodeJwt } from 'jose';
import { authorize, authorizeUrl, pkce, redirectParams, tokenRequest } from './helpers/agent.ts';
import { type InProcessServer, startInProcess } from './helpers/in-process.ts';

/**
 * `/oauth/authorize` over real HTTP against createAuthorizationServer on a SQLite file: which
 * requests are refused, how (page or redirect), and what the issued code is bound to.
 */
let s: InProcessServer;
const CLIENT = 'authorize-client';
const CALLBACK = 'https://app.example/callback';
const LOOPBACK_CALLBACK = 'http://127.0.0.1/callback';
const user = { username: 'alice', password: 'correct horse battery' };

before(async () => {
  s = await startInProcess((url) => ({ resources: [`${url}/mcp`, `${url}/files`] }));
  await s.addUser(user.username, user.password);
  await s.addClient({ client_id: CLIENT, redirect_uris: [CALLBACK, LOOPBACK_CALLBACK] });
});
after(() => s?.close());

/** A valid request's parameters, overridable one at a time. */
function params(overrides: Record<string, string | undefined> = {}): Record<string, string | undefined> {
  return {
    response_type: 'code',
    client_id: CLIENT,
    redirect_uri: CALLBACK,
    state: 'af0ifjsldkj',
    code_challenge: pkce().challenge,
    code_challenge_method: 'S256',
    ...overrides,
  };
}

const get = (overrides: Record<string, string | undefined> = {}) =>
  fetch(authorizeUrl(s.issuer, params(overrides)), { redirect: 'manual' });

/** Asserts an error redirect to the client carrying `error`, `state` and `iss`. */
async function assertErrorRedirect(response: Response, error: string, state = 'af0ifjsldkj') {
  assert.equal(response.status, 302, await response.clone().text());
  const location = new URL(response.headers.get('location') as string);
  assert.equal(`${location.origin}${location.pathname}`, CALLBACK);
  const p = Object.fromEntries(location.searchParams);
  assert.equal(p.error, error);
  assert.equal(p.state, state);
  assert.equal(p.iss, s.issuer);
  assert.equal(p.code, undefined);
}

/** Asserts an HTML error page and no redirect at all. */
async function assertErrorPage(response: Response) {
  assert.equal(response.status, 400);
  assert.equal(response.headers.get('location'), null);
  assert.match(response.headers.get('content-type') ?? '', /^text\/html/);
  assert.match(response.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/);
  const body = await response.text();
  assert.match(body, /<h1>/);
}

describe('/oauth/authorize', () => {
  test('OAuth 2.1 §4.1.1: a valid request goes to sign-in (no code before the user consents)', async () => {
    const response = await get();
    assert.equal(response.status, 303);
    assert.match(response.headers.get('location') ?? '', /^\/interaction\/[A-Za-z0-9_-]+$/);
  });

  test('OAuth 2.1 §4.1.1: response_type other than code is refused with unsupported_response_type', async () => {
    await assertErrorRedirect(await get({ response_type: 'token' }), 'unsupported_response_type');
    await assertErrorRedirect(await get({ response_type: 'code id_token' }), 'unsupported_response_type');
    await assertErrorRedirect(await get({ response_type: undefined }), 'unsupported_response_type');
  });

  test('OAuth 2.1 §4.1.1, RFC 7636 §4.4.1: a request without code_challenge is refused (PKCE required)', async () => {
    await assertErrorRedirect(
      await get({ code_challenge: undefined, code_challenge_method: undefined }),
      'invalid_request',
    );
  });

  test('OAuth 2.1 §7.5.2: code_challenge_method=plain or a missing method is refused (S256 only)', async () => {
    const verifier = pkce().verifier;
    await assertErrorRedirect(
      await get({ code_challenge: verifier, code_challenge_method: 'plain' }),
      'invalid_request',
    );
    await assertErrorRedirect(await get({ code_challenge_method: undefined }), 'invalid_request');
    await assertErrorRedirect(await get({ code_challenge: 'too-short' }), 'invalid_request');
  });

  test('RFC 6749 §4.1.2.1, RFC 9207 §2: error redirects echo state and carry iss, and omit state when none was sent', async () => {
    const response = await get({ response_type: 'token', state: undefined });
    const p = redirectParams(response);
    assert.equal(p.error, 'unsupported_response_type');
    assert.equal(p.iss, s.issuer);
    assert.equal('state' in p, false);
  });

  test('RFC 8707 §2: a resource this server does not serve is refused with invalid_target', async () => {
    await assertErrorRedirect(await get({ resource: 'https://elsewhere.example/mcp' }), 'invalid_target');
    await assertErrorRedirect(await get({ resource: `${s.issuer}/mcp/` }), 'invalid_target');
  });

  test('RFC 6749 §3.3: an unknown or malformed scope is refused with invalid_scope', async () => {
    await assertErrorRedirect(await get({ scope: 'tools:list admin:everything' }), 'invalid_scope');
    await assertErrorRedirect(await get({ scope: 'tools:list "quoted"' }), 'invalid_scope');
  });

  test('RFC 6749 §4.1.2.1: an unknown client gets an error page, never a redirect', async () => {
    await assertErrorPage(await get({ client_id: 'no-such-client' }));
    await assertErrorPage(await get({ client_id: undefined }));
  });

  test('OAuth 2.1 §2.3.1: a redirect URI not registered exactly gets an error page, never a redirect', async () => {
    for (const redirect_uri of [
      'https://app.example/callback/',
      'https://app.example/callback?x=1',
      'https://app.example/Callback',
      'https://app.example:8443/callback',
      'https://evil.example/callback',
      'http://app.example/callback',
      'http://127.0.0.1:8080/other',
      'http://127.0.0.1.evil.example/callback',
    ]) {
      // Even with an otherwise fatal error, a bad redirect URI must never be redirected to.
      await assertErrorPage(await get({ redirect_uri, response_type: 'token' }));
    }
  });

  test('RFC 8252 §7.3: a loopback redirect URI matches with any port', async () => {
    const flow = await authorize({
      issuer: s.issuer,
      clientId: CLIENT,
      redirectUri: 'http://127.0.0.1:49152/callback',
      ...user,
    });
    assert.ok(flow.response.headers.get('location')?.startsWith('http://127.0.0.1:49152/callback?'));
    assert.ok(flow.params.code);
  });

  test('RFC 6749 §4.1.2, RFC 9207 §2: the success redirect carries code, the exact state and iss', async () => {
    const state = 'a state with spaces & symbols=/?';
    const flow = await authorize({
      issuer: s.issuer,
      clientId: CLIENT,
      redirectUri: CALLBACK,
      state,
      ...user,
    });
    assert.equal(flow.response.status, 302);
    assert.equal(flow.params.state, state);
    assert.equal(flow.params.iss, s.issuer);
    assert.ok(flow.params.code && flow.params.code.length >= 43);
    assert.equal(flow.response.headers.get('cache-control'), 'no-store');
  });

  test('RFC 8707 §2, MCP authorization: without resource, the code is bound to <issuer>/mcp and scope defaults to the catalogue', async () => {
    const flow = await authorize({ issuer: s.issuer, clientId: CLIENT, redirectUri: CALLBACK, ...user });
    const token = await tokenRequest(s.issuer, {
      grant_type: 'authorization_code',
      code: flow.params.code as string,
      code_verifier: flow.verifier,
      redirect_uri: CALLBACK,
      client_id: CLIENT,
    });
    assert.equal(token.status, 200, JSON.stringify(token.body));
    const claims = decodeJwt(token.body.access_token as string);
    assert.equal(claims.aud, `${s.issuer}/mcp`);
    const granted = (token.body.scope as string).split(' ').sort();
    assert.deepEqual(granted, s.as.context.catalogue.names.sort());
  });

  test('RFC 8707 §2: an explicit resource is bound to the code and becomes the token audience', async () => {
    const resource = `${s.issuer}/files`;
    const flow = await authorize({
      issuer: s.issuer,
      clientId: CLIENT,
      redirectUri: CALLBACK,
      resource,
      scope: 'tools:list',
      ...user,
    });
    const token = await tokenRequest(s.issuer, {
      grant_type: 'authorization_code',
      code: flow.params.code as string,
      code_verifier: flow.verifier,
      redirect_uri: CALLBACK,
      client_id: CLIENT,
      resource,
    });
    assert.equal(token.status, 200, JSON.stringify(token.body));
    assert.equal(decodeJwt(token.body.access_token as string).aud, resource);
    assert.equal(token.body.scope, 'tools:list');
  });

  test('RFC 8707 §2.2: the token request may not switch the code to another resource', async () => {
    const flow = await authorize({
      issuer: s.issuer,
      clientId: CLIENT,
      redirectUri: CALLBACK,
      resource: `${s.issuer}/files`,
      ...user,
    });
    const token = await tokenRequest(s.issuer, {
      grant_type: 'authorization_code',
      code: flow.params.code as string,
      code_verifier: flow.verifier,
      redirect_uri: CALLBACK,
      client_id: CLIENT,
      resource: `${s.issuer}/mcp`,
    });
    assert.equal(token.status, 400);
    assert.equal(token.body.error, 'invalid_target');
  });

  test('RFC 6749 §3.1: a repeated parameter gets an error page', async () => {
    const url = authorizeUrl(s.issuer, params());
    url.searchParams.append('state', 'second');
    await assertErrorPage(await fetch(url, { redirect: 'manual' }));
  });

  test('OAuth 2.1 §4.1.1: the authorization endpoint also accepts POST with a form body', async () => {
    const response = await fetch(`${s.issuer}/oauth/authorize`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(params() as Record<string, string>).toString(),
      redirect: 'manual',
    });
    assert.equal(response.status, 303);
    assert.match(response.headers.get('location') ?? '', /^\/interaction\//);
  });
});

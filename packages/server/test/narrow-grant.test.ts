import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { parseBearerChallenge } from '@gatehouse/core';
import { createGuard, type Guard } from '@gatehouse/resource';
import { decodeJwt } from 'jose';
import { frozenClock, type Harness, startAuthorizationServer } from './harness.ts';

/**
 * Narrowing a grant on the connected-apps page (issue #11): the next request with a token issued
 * before it, at a guard in this process (sharing the AS's revocation list, as `gatehouse serve`'s
 * demo does) and at a guard following the revocation feed, gets 403 insufficient_scope for what
 * was unticked; refreshes issue no more than what is left.
 */
const clock = frozenClock();
const WIDE = 'tools:list tools:execute:filesystem tools:execute:database offline_access';
const manifest = { tools: { read_file: 'tools:execute:filesystem', query: 'tools:execute:database' } };
let h: Harness;
let resource: string;
const guards: Guard[] = [];

before(async () => {
  h = await startAuthorizationServer({ now: clock.now });
  resource = `${h.issuer}/mcp`;
});
after(async () => {
  for (const guard of guards) guard.close();
  await h.close();
});

/** A guard on the AS's MCP resource whose handler answers with the scopes it was given. */
function guarded(options: { inProcess?: boolean; feed?: boolean } = {}) {
  const guard = createGuard({
    resource,
    authorizationServers: [h.issuer],
    manifest,
    now: () => clock.now() * 1000,
    ...(options.inProcess ? { revocations: h.as.revocations } : {}),
    ...(options.feed ? { revocationFeed: true } : {}),
  });
  guards.push(guard);
  const handler = guard.wrap(async (_request, auth) => Response.json({ scopes: auth.scopes }));
  const call = async (token: string, tool: string) =>
    handler(
      new Request(resource, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
        },
        body: JSON.stringify({
          jsonrpc: '2.0',
          id: 1,
          method: 'tools/call',
          params: { name: tool, arguments: {} },
        }),
      }),
    );
  return { guard, call };
}

/** The user at their account pages over HTTP: a cookie jar and forms sent with their CSRF token. */
async function signedIn(user: { username: string; password: string }) {
  const cookies = new Map<string, string>();
  const request = async (path: string, form?: URLSearchParams) => {
    const response = await fetch(`${h.issuer}${path}`, {
      method: form ? 'POST' : 'GET',
      redirect: 'manual',
      headers: {
        cookie: [...cookies].map(([k, v]) => `${k}=${v}`).join('; '),
        ...(form ? { 'content-type': 'application/x-www-form-urlencoded', origin: h.issuer } : {}),
      },
      ...(form ? { body: form } : {}),
    });
    for (const cookie of response.headers.getSetCookie()) {
      const [name, value] = (cookie.split(';')[0] as string).split('=') as [string, string];
      cookies.set(name, value);
    }
    return { response, text: await response.text() };
  };
  const csrfOf = (html: string) => /name="csrf" value="([^"]+)"/.exec(html)?.[1] ?? '';
  const login = await request('/login');
  const signIn = await request(
    '/login',
    new URLSearchParams({ csrf: csrfOf(login.text), username: user.username, password: user.password }),
  );
  assert.equal(signIn.response.status, 303);
  return {
    request,
    /** Posts the narrowing form of `grant` with these boxes ticked. */
    async narrow(grant: string, ticked: string[]) {
      const { text } = await request('/account/apps');
      const form = new URLSearchParams({ csrf: csrfOf(text), grant });
      for (const scope of ticked) form.append('scope', scope);
      return request('/account/apps/narrow', form);
    },
  };
}

const challengeOf = (res: Response) => parseBearerChallenge(res.headers.get('www-authenticate') ?? '') ?? {};

describe('narrowing a grant from the connected-apps page (issue #11)', () => {
  test('RFC 6750 §3.1: after narrowing, the next call needing an unticked scope gets 403 insufficient_scope at a guard in this process at once and at a guard following the feed; the rest still works', {
    timeout: 20_000,
  }, async () => {
    const client = await h.addClient({ client_name: 'Narrowed App' });
    const user = await h.addUser('narrow-user');
    const tokens = await h.authorize(client, user, { scope: WIDE });
    const { gid } = decodeJwt(tokens.access_token) as { gid: string };
    const local = guarded({ inProcess: true });
    const remote = guarded({ feed: true });
    await remote.guard.ready();
    assert.equal((await local.call(tokens.access_token, 'query')).status, 200);
    assert.equal((await remote.call(tokens.access_token, 'query')).status, 200);

    const account = await signedIn(user);
    const { text: page } = await account.request('/account/apps');
    for (const scope of ['tools:list', 'tools:execute:filesystem', 'tools:execute:database'])
      assert.match(page, new RegExp(`<input type="checkbox"[^>]*name="scope" value="${scope}" checked>`));
    assert.doesNotMatch(page, /value="offline_access"/, 'offline_access has no box: revoking ends it');

    const narrowed = await account.narrow(gid, ['tools:list', 'tools:execute:filesystem']);
    assert.equal(narrowed.response.status, 303);
    assert.equal(narrowed.response.headers.get('location'), '/account/apps?narrowed');

    // In this process: before the page's response returned.
    const refused = await local.call(tokens.access_token, 'query');
    assert.equal(refused.status, 403);
    assert.equal(challengeOf(refused).error, 'insufficient_scope');
    assert.equal(challengeOf(refused).scope, 'tools:execute:database');
    const allowed = await local.call(tokens.access_token, 'read_file');
    assert.equal(allowed.status, 200, 'the token still verifies; only its scope shrank');
    assert.deepEqual(((await allowed.json()) as { scopes: string[] }).scopes, [
      'tools:list',
      'tools:execute:filesystem',
    ]);

    // Another process: the feed's long poll is answered at once; the next request after it is refused.
    let remoteStatus = (await remote.call(tokens.access_token, 'query')).status;
    while (remoteStatus === 200) {
      await new Promise((resolve) => setTimeout(resolve, 10));
      remoteStatus = (await remote.call(tokens.access_token, 'query')).status;
    }
    assert.equal(remoteStatus, 403);
    assert.equal((await remote.call(tokens.access_token, 'read_file')).status, 200);

    assert.equal((await h.store.getGrant(gid))?.scope, 'tools:list tools:execute:filesystem offline_access');
    const consent = await h.store.getConsent(user.id, client.client_id, resource);
    assert.doesNotMatch(consent?.scope ?? '', /database/, 'asking for it again shows the consent screen');
    await h.as.context.flushAudit();
    const events = await h.store.listAudit({ limit: 1000 });
    assert.ok(
      events.some(
        (e) =>
          e.type === 'grant.narrowed' && e.grant_id === gid && e.detail?.removed === 'tools:execute:database',
      ),
    );
    const after = await account.request('/account/apps?narrowed');
    assert.match(after.text, /Permissions saved/);
    assert.doesNotMatch(after.text, /value="tools:execute:database"/);
  });

  test('RFC 6749 §6: a refresh after narrowing issues at most what is left, even for a refresh token issued before, and cannot ask for the removed scope back', async () => {
    const client = await h.addClient();
    const user = await h.addUser('narrow-refresh-user');
    const tokens = await h.authorize(client, user, { scope: WIDE });
    const { gid } = decodeJwt(tokens.access_token) as { gid: string };
    const account = await signedIn(user);
    assert.equal((await account.narrow(gid, ['tools:list'])).response.status, 303);

    const refresh = (token: string, extra: Record<string, string> = {}) =>
      h.post('/oauth/token', {
        grant_type: 'refresh_token',
        refresh_token: token,
        client_id: client.client_id,
        ...extra,
      });
    const widen = await refresh(tokens.refresh_token, { scope: 'tools:list tools:execute:database' });
    assert.equal(widen.status, 400);
    assert.equal(((await widen.json()) as { error: string }).error, 'invalid_scope');
    const res = await refresh(tokens.refresh_token);
    assert.equal(res.status, 200);
    const body = (await res.json()) as { access_token: string; refresh_token: string; scope: string };
    assert.equal(body.scope, 'tools:list', 'RFC 6749 §5.1: the response says what the token carries');
    assert.equal((decodeJwt(body.access_token) as { scope: string }).scope, 'tools:list');
    // A guard that never heard of the narrowing refuses the new token's database call all the same.
    const plain = guarded();
    assert.equal((await plain.call(body.access_token, 'query')).status, 403);
    const next = await refresh(body.refresh_token);
    assert.equal(
      ((await next.json()) as { scope: string }).scope,
      'tools:list',
      'the successor keeps the narrowed scope',
    );
  });

  test("RFC 6750 §3.1: a narrowing outlives the tokens it covers by the guards' clock tolerance: 5 s past exp the removed scope is still refused", async () => {
    const client = await h.addClient({ client_name: 'Skew App' });
    const user = await h.addUser('skew-user');
    const tokens = await h.authorize(client, user, { scope: WIDE });
    const { gid, exp } = decodeJwt(tokens.access_token) as { gid: string; exp: number };
    const local = guarded({ inProcess: true });
    const account = await signedIn(user);
    assert.equal(
      (await account.narrow(gid, ['tools:list', 'tools:execute:filesystem'])).response.status,
      303,
    );
    assert.equal((await local.call(tokens.access_token, 'query')).status, 403);
    // Within the guard's 30 s clock tolerance the token still verifies; the narrowing must still hold.
    clock.advance(exp - clock.now() + 5);
    await h.as.revocations.sync();
    assert.equal((await local.call(tokens.access_token, 'query')).status, 403);
  });

  test('RFC 7662 §2.2: introspection reports what a narrowed grant leaves, for access and refresh tokens issued before', async () => {
    const client = await h.addClient({ client_name: 'Introspected App' });
    const rs = await h.addClient({ confidential: true, resource_server: true });
    const user = await h.addUser('introspected-user');
    const tokens = await h.authorize(client, user, { scope: WIDE });
    const { gid } = decodeJwt(tokens.access_token) as { gid: string };
    const account = await signedIn(user);
    assert.equal((await account.narrow(gid, ['tools:list'])).response.status, 303);
    const introspect = async (token: string) => {
      const response = await h.post(
        '/oauth/introspect',
        { token },
        { authorization: `Basic ${Buffer.from(`${rs.client_id}:${rs.secret}`).toString('base64')}` },
      );
      return (await response.json()) as { active: boolean; scope?: string };
    };
    const access = await introspect(tokens.access_token);
    assert.equal(access.active, true);
    assert.equal(access.scope, 'tools:list');
    // offline_access is no permission on the resource and has no box on the page: it stays.
    assert.equal((await introspect(tokens.refresh_token as string)).scope, 'tools:list offline_access');
  });

  test('unticking every permission revokes the grant; another user’s grant, or a post without the CSRF token, changes nothing', async () => {
    const client = await h.addClient();
    const owner = await h.addUser('narrow-owner');
    const other = await h.addUser('narrow-other');
    const tokens = await h.authorize(client, owner, { scope: WIDE });
    const { gid, jti } = decodeJwt(tokens.access_token) as { gid: string; jti: string };

    const stranger = await signedIn(other);
    assert.equal((await stranger.narrow(gid, ['tools:list'])).response.status, 404);
    const noCsrf = await stranger.request(
      '/account/apps/narrow',
      new URLSearchParams({ grant: gid, scope: 'tools:list' }),
    );
    assert.equal(noCsrf.response.status, 400);
    assert.equal((await h.store.getGrant(gid))?.scope, WIDE);

    const account = await signedIn(owner);
    const all = await account.narrow(gid, []);
    assert.equal(all.response.headers.get('location'), '/account/apps?revoked');
    assert.ok((await h.store.getGrant(gid))?.revoked_at);
    assert.equal(h.as.revocations.isRevoked({ jti, gid }), true);
  });
});

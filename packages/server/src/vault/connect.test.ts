import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { startSession } from '../interaction/session.ts';
import { type AuthorizationServer, createAuthorizationServer } from '../server.ts';
import { SqliteStore } from '../store/sqlite.ts';
import { startUpstreamAs, type UpstreamAs } from './upstream-as-kit.ts';

const ISSUER = 'http://127.0.0.1:9';
let dir: string;
let store: SqliteStore;
let as: AuthorizationServer;
let upstream: UpstreamAs;
let session: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gatehouse-connect-'));
  store = new SqliteStore(join(dir, 'gatehouse.db'));
  upstream = await startUpstreamAs({ redirectUri: `${ISSUER}/connect/github/callback` });
  as = await createAuthorizationServer({
    issuer: ISSUER,
    store,
    masterSecret: randomBytes(32).toString('base64url'),
    now: () => 1_800_000_000,
    connections: new Map([
      [
        'github',
        {
          issuer: upstream.issuer,
          authorizationEndpoint: `${upstream.issuer}/auth`,
          tokenEndpoint: `${upstream.issuer}/token`,
          clientId: upstream.clientId,
          clientSecret: upstream.clientSecret,
          scopes: ['offline_access', 'repo'],
        },
      ],
    ]),
  });
  const user = { id: 'u-ann', username: 'ann', password_hash: 'x', disabled: false, created_at: 1 };
  await store.createUser(user);
  session = (await startSession(as.context, user)).split(';')[0] as string;
});
after(async () => {
  await as.close();
  await upstream.close();
  await store.close();
  await rm(dir, { recursive: true, force: true });
});

const get = (path: string, cookie?: string) =>
  as.fetch(new Request(`${ISSUER}${path}`, { headers: cookie ? { cookie } : {} }));

test('RFC 7636 §4.3, RFC 6749 §4.1.1: connecting sends the signed-in user to the upstream with S256 PKCE, state and the callback', async () => {
  const response = await get('/connect/github', session);
  assert.equal(response.status, 303);
  const target = new URL(response.headers.get('location') as string);
  assert.equal(target.origin + target.pathname, `${upstream.issuer}/auth`);
  assert.equal(target.searchParams.get('client_id'), upstream.clientId);
  assert.equal(target.searchParams.get('redirect_uri'), `${ISSUER}/connect/github/callback`);
  assert.equal(target.searchParams.get('code_challenge_method'), 'S256');
  assert.match(target.searchParams.get('code_challenge') ?? '', /^[\w-]{43}$/);
  assert.ok((target.searchParams.get('state') ?? '').length >= 20);
  assert.equal(target.searchParams.get('scope'), 'offline_access repo');
  assert.equal(target.searchParams.has('client_secret'), false);
  // One cookie per flow, named after its state (flow-cookies.ts), sealed.
  assert.match(response.headers.get('set-cookie') ?? '', /^gatehouse_connect_[\w-]{16}=v1\./);
});

test('RFC 6749 §10.12: a callback whose state is not the one this browser started is refused, and nothing is stored', async () => {
  const started = await get('/connect/github', session);
  const connectCookie = (started.headers.get('set-cookie') as string).split(';')[0];
  const cookie = `${session}; ${connectCookie}`;
  const forged = await get(
    `/connect/github/callback?code=attacker-code&state=not-the-state&iss=${encodeURIComponent(upstream.issuer)}`,
    cookie,
  );
  assert.equal(forged.status, 400);
  assert.match(await forged.text(), /not connected/);
  // Without the cookie (a link sent to the victim): refused too.
  const noCookie = await get('/connect/github/callback?code=attacker-code&state=x', session);
  assert.equal(noCookie.status, 400);
  assert.equal(await store.getConnection('u-ann', 'github'), undefined);
  assert.equal(upstream.tokenRequests.get('authorization_code'), undefined, 'no code was exchanged');
});

test('connect pages: not signed in goes to sign-in; an unknown connection is 404', async () => {
  const anonymous = await get('/connect/github');
  assert.equal(anonymous.status, 303);
  assert.equal(anonymous.headers.get('location'), '/login');
  assert.equal((await get('/connect/__proto__', session)).status, 404);
  assert.equal((await get('/connect/gitlab', session)).status, 404);
});

import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type AuthorizationServer, createAuthorizationServer } from '../server.ts';
import { SqliteStore } from '../store/sqlite.ts';
import type { GrantRecord } from '../store/types.ts';
import { hashPassword } from '../users/password.ts';

const ISSUER = 'http://127.0.0.1:9';
const T0 = 1_800_000_000;
let dir: string;
let as: AuthorizationServer;
let store: SqliteStore;
let clock = T0;
let alice: string;
let bob: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gatehouse-account-'));
  store = new SqliteStore(join(dir, 'gatehouse.db'));
  as = await createAuthorizationServer({
    issuer: ISSUER,
    store,
    masterSecret: randomBytes(32).toString('base64url'),
    loginAttemptsPer15Minutes: 3,
    now: () => clock,
  });
  const password_hash = await hashPassword('correct horse battery');
  alice = randomUUID();
  bob = randomUUID();
  await store.createUser({ id: alice, username: 'alice', password_hash, disabled: false, created_at: T0 });
  await store.createUser({ id: bob, username: 'bob', password_hash, disabled: false, created_at: T0 });
  await store.createClient({
    client_id: 'notes-app',
    kind: 'preregistered',
    client_name: 'Notes <App>',
    redirect_uris: ['http://127.0.0.1:1/cb'],
    token_endpoint_auth_method: 'none',
    grant_types: ['authorization_code', 'refresh_token'],
    created_at: T0,
  });
});
after(async () => {
  await as.close();
  await store.close();
  await rm(dir, { recursive: true, force: true });
});

async function grantFor(subject: string, scope = 'tools:execute tools:execute:filesystem offline_access') {
  const grant: GrantRecord = {
    id: randomUUID(),
    client_id: 'notes-app',
    subject,
    resource: `${ISSUER}/mcp`,
    scope,
    created_at: clock,
    last_used_at: clock,
    expires_at: clock + 86400,
  };
  await store.createGrant(grant);
  return grant;
}

/** A browser stand-in: keeps cookies, posts forms with the CSRF token found in the last page. */
class Browser {
  cookies = new Map<string, string>();
  address = `10.0.0.${Math.floor(Math.random() * 250)}`;

  async request(
    path: string,
    init: { method?: string; form?: Record<string, string>; origin?: string } = {},
  ) {
    const headers = new Headers({ accept: 'text/html' });
    if (this.cookies.size) headers.set('cookie', [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; '));
    if (init.origin) headers.set('origin', init.origin);
    let body: string | undefined;
    if (init.form) {
      headers.set('content-type', 'application/x-www-form-urlencoded');
      body = new URLSearchParams(init.form).toString();
    }
    const response = await as.fetch(
      new Request(`${ISSUER}${path}`, { method: init.method ?? 'GET', headers, body }),
      {
        remoteAddress: this.address,
      },
    );
    for (const cookie of response.headers.getSetCookie()) {
      const [pair] = cookie.split(';');
      const [name, value] = (pair as string).split('=') as [string, string];
      if (value === '' || /Max-Age=0\b/.test(cookie)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return { response, text: await response.text() };
  }

  /** Each sign-in starts a fresh 15-minute rate-limit window unless `sameWindow` (every attempt counts). */
  async signIn(username: string, password = 'correct horse battery', sameWindow = false) {
    if (!sameWindow) clock += 15 * 60;
    const { text } = await this.request('/login');
    return this.request('/login', { method: 'POST', form: { csrf: csrfOf(text), username, password } });
  }
}

const csrfOf = (page: string) => /name="csrf" value="([^"]+)"/.exec(page)?.[1] ?? '';

test('connected apps: signed out, /account/apps sends the user to the standalone sign-in', async () => {
  const { response } = await new Browser().request('/account/apps');
  assert.equal(response.status, 303);
  assert.equal(response.headers.get('location'), '/login');
});

test('connected apps: /login signs in and returns to /account/apps, which lists the app with its scopes in sentences', async () => {
  const grant = await grantFor(alice);
  const browser = new Browser();
  const { response } = await browser.signIn('alice');
  assert.equal(response.status, 303);
  assert.equal(response.headers.get('location'), '/account/apps');
  const { response: apps, text } = await browser.request('/account/apps');
  assert.equal(apps.status, 200);
  assert.match(apps.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/);
  assert.match(text, new RegExp(`data-grant="${grant.id}"`));
  assert.match(text, /Notes &lt;App&gt;/, 'the client name is escaped');
  assert.match(text, /Run any tool/);
  assert.doesNotMatch(text, /Run filesystem tools/, 'a scope covered by a granted parent is not repeated');
  assert.match(text, /Stay connected while you are away/);
  await store.revokeGrant(grant.id, clock, clock + 3600);
});

test('connected apps: a user sees only their own grants', async () => {
  const mine = await grantFor(alice);
  const theirs = await grantFor(bob);
  const browser = new Browser();
  await browser.signIn('alice');
  const { text } = await browser.request('/account/apps');
  assert.match(text, new RegExp(mine.id));
  assert.doesNotMatch(text, new RegExp(theirs.id));
  await store.revokeGrant(mine.id, clock, clock + 3600);
  await store.revokeGrant(theirs.id, clock, clock + 3600);
});

test('connected apps: revoking revokes the grant at once, audits it with the user as actor, and forgets the consent', async () => {
  const grant = await grantFor(alice);
  await store.saveConsent({
    user_id: alice,
    client_id: 'notes-app',
    resource: grant.resource,
    scope: grant.scope,
    granted_at: clock,
  });
  const browser = new Browser();
  await browser.signIn('alice');
  const { text } = await browser.request('/account/apps');
  const { response } = await browser.request('/account/apps/revoke', {
    method: 'POST',
    form: { csrf: csrfOf(text), grant: grant.id },
    origin: new URL(ISSUER).origin,
  });
  assert.equal(response.status, 303);
  assert.equal(as.revocations.isRevoked({ jti: 'any', gid: grant.id }), true);
  assert.ok((await store.getGrant(grant.id))?.revoked_at);
  assert.equal((await store.getConsent(alice, 'notes-app', grant.resource))?.scope, '');
  await as.context.flushAudit();
  const events = await store.listAudit({ limit: 1000 });
  assert.ok(events.some((e) => e.type === 'grant.revoked' && e.grant_id === grant.id && e.actor === alice));
  const { text: after } = await browser.request(response.headers.get('location') as string);
  assert.doesNotMatch(after, new RegExp(grant.id));
  assert.match(after, /Access revoked/);
});

test("connected apps: a user cannot revoke another user's grant (404, grant untouched)", async () => {
  const theirs = await grantFor(bob);
  const browser = new Browser();
  await browser.signIn('alice');
  const { text } = await browser.request('/account/apps');
  const { response } = await browser.request('/account/apps/revoke', {
    method: 'POST',
    form: { csrf: csrfOf(text), grant: theirs.id },
  });
  assert.equal(response.status, 404);
  assert.equal((await store.getGrant(theirs.id))?.revoked_at, undefined);
  assert.equal(as.revocations.isRevoked({ jti: 'any', gid: theirs.id }), false);
});

test('connected apps: a revoke without the CSRF token, or from another origin, is refused', async () => {
  const grant = await grantFor(alice);
  const browser = new Browser();
  await browser.signIn('alice');
  const { text } = await browser.request('/account/apps');
  const noToken = await browser.request('/account/apps/revoke', {
    method: 'POST',
    form: { grant: grant.id },
  });
  assert.equal(noToken.response.status, 400);
  const crossSite = await browser.request('/account/apps/revoke', {
    method: 'POST',
    form: { csrf: csrfOf(text), grant: grant.id },
    origin: 'https://evil.example',
  });
  assert.equal(crossSite.response.status, 400);
  assert.equal((await store.getGrant(grant.id))?.revoked_at, undefined);
  await store.revokeGrant(grant.id, clock, clock + 3600);
});

test('connected apps: sign-out ends the session in the store, not only the cookie', async () => {
  const browser = new Browser();
  await browser.signIn('alice');
  const session = browser.cookies.get('gatehouse_session') as string;
  const { text } = await browser.request('/account/apps');
  const { response } = await browser.request('/logout', { method: 'POST', form: { csrf: csrfOf(text) } });
  assert.equal(response.status, 303);
  assert.equal(response.headers.get('location'), '/login');
  assert.equal(browser.cookies.has('gatehouse_session'), false);
  // Replaying the old cookie gets nothing: the session is gone from the store.
  browser.cookies.set('gatehouse_session', session);
  assert.equal((await browser.request('/account/apps')).response.headers.get('location'), '/login');
});

test('standalone sign-in: wrong passwords are refused and rate-limited like the authorization sign-in', async () => {
  const browser = new Browser();
  const statuses: number[] = [];
  for (let i = 0; i < 4; i++) {
    statuses.push((await browser.signIn('bob', 'wrong password', i > 0)).response.status);
  }
  assert.deepEqual(statuses, [401, 401, 401, 429]);
  // Even the right password is refused while the limit holds.
  assert.equal((await browser.signIn('bob', 'correct horse battery', true)).response.status, 429);
  await as.context.flushAudit();
  const events = await store.listAudit({ limit: 1000 });
  assert.ok(events.some((e) => e.type === 'login.rate_limited'));
  assert.ok(!JSON.stringify(events).includes('wrong password'), 'no password in the audit log');
  assert.ok(
    events.some((e) => e.type === 'login.failed' && e.user_id === bob),
    'failures name the account by id',
  );
  await new Browser().signIn('correct horse battery', 'oops, the password went in the username field');
  await as.context.flushAudit();
  assert.ok(
    !JSON.stringify(await store.listAudit({ limit: 1000 })).includes('correct horse battery'),
    'what was typed as a username is not logged',
  );
  assert.equal((await browser.signIn('bob')).response.status, 303, 'a new window lets the user in');
});

test('standalone sign-in: a disabled user cannot sign in', async () => {
  const carol = randomUUID();
  await store.createUser({
    id: carol,
    username: 'carol',
    password_hash: await hashPassword('correct horse battery'),
    disabled: true,
    created_at: T0,
  });
  assert.equal((await new Browser().signIn('carol')).response.status, 401);
});

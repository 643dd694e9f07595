import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, beforeEach, describe, test } from 'node:test';
import { createPkcePair, defaultScopes } from '@gatehouse/core';
import {
  createAuthorizationServer,
  hashPassword,
  SqliteStore,
  type Store,
  toNodeListener,
} from '@gatehouse/server';
import { withTestDatabase } from './testing.ts';

/**
 * The authorization server over real HTTP on 127.0.0.1, once per store: what must hold under
 * parallel requests (counting, taking an interaction once) and for a user disabled mid-flow
 * depends on each store's atomic statements, so every scenario runs on SQLite and on PostgreSQL.
 */
const LIMIT = 5;
const PASSWORD = 'correct horse battery';
const REDIRECT_URI = 'http://127.0.0.1/callback';

/** What approving the consent screen as shown submits: every scope of the default request. */
const APPROVED_SCOPE = defaultScopes.map((s) => s.name).join(' ');

async function startServer(store: Store) {
  const http = createServer();
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  const clock = { now: 1_900_000_000 };
  const as = await createAuthorizationServer({
    issuer,
    store,
    masterSecret: randomBytes(32).toString('base64url'),
    loginAttemptsPer15Minutes: LIMIT,
    now: () => clock.now,
  });
  http.on('request', toNodeListener(as.fetch, issuer));
  const clientId = randomUUID();
  await store.createClient({
    client_id: clientId,
    kind: 'preregistered',
    client_name: 'Test client',
    redirect_uris: [REDIRECT_URI],
    token_endpoint_auth_method: 'none',
    grant_types: ['authorization_code', 'refresh_token'],
    created_at: clock.now,
  });

  async function addUser(): Promise<{ id: string; username: string }> {
    const user = { id: randomUUID(), username: `user-${randomUUID()}` };
    await store.createUser({
      ...user,
      password_hash: await hashPassword(PASSWORD),
      disabled: false,
      created_at: clock.now,
    });
    return user;
  }

  /** A browser at the sign-in form of a fresh interaction: its cookies and the form's CSRF token. */
  async function atSignIn() {
    const { code_verifier, code_challenge } = createPkcePair();
    const url = new URL('/oauth/authorize', issuer);
    url.search = new URLSearchParams({
      response_type: 'code',
      client_id: clientId,
      code_challenge,
      code_challenge_method: 'S256',
      state: 'st',
    }).toString();
    const cookies = new Map<string, string>();
    const keep = (res: Response) => {
      for (const c of res.headers.getSetCookie()) {
        const [pair = ''] = c.split(';');
        const at = pair.indexOf('=');
        cookies.set(pair.slice(0, at), pair.slice(at + 1));
      }
      return res;
    };
    const cookie = () => [...cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    const get = async (path: string) =>
      keep(await fetch(new URL(path, issuer), { headers: { cookie: cookie() }, redirect: 'manual' }));
    const post = async (path: string, form: Record<string, string>) =>
      keep(
        await fetch(new URL(path, issuer), {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: cookie() },
          body: new URLSearchParams(form),
          redirect: 'manual',
        }),
      );
    const csrfOf = async (res: Response) => /name="csrf" value="([^"]+)"/.exec(await res.text())?.[1] ?? '';
    const interaction = (await get(url.href)).headers.get('location') ?? '';
    assert.match(interaction, /^\/interaction\//);
    const csrf = await csrfOf(await get(interaction));
    return { interaction, csrf, code_verifier, get, post, csrfOf };
  }

  /** Signs in and stops at the consent screen. */
  async function atConsent(user: { username: string }) {
    const browser = await atSignIn();
    const login = await browser.post(`${browser.interaction}/login`, {
      csrf: browser.csrf,
      username: user.username,
      password: PASSWORD,
    });
    assert.equal(login.status, 303);
    const csrf = await browser.csrfOf(await browser.get(browser.interaction));
    return { ...browser, csrf };
  }

  /** Approves the consent screen and returns the code from the redirect. */
  async function code(user: { username: string }) {
    const browser = await atConsent(user);
    const res = await browser.post(`${browser.interaction}/consent`, {
      csrf: browser.csrf,
      decision: 'approve',
      scope: APPROVED_SCOPE,
    });
    const code = new URL(res.headers.get('location') ?? '').searchParams.get('code') ?? '';
    assert.ok(code, 'the approval redirects with a code');
    return { code, code_verifier: browser.code_verifier };
  }

  function token(form: Record<string, string>) {
    return fetch(new URL('/oauth/token', issuer), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ client_id: clientId, ...form }),
    });
  }

  const redeem = (issued: { code: string; code_verifier: string }) =>
    token({ grant_type: 'authorization_code', ...issued });

  return {
    store,
    /** Moves the frozen clock past the sign-in window, so the next test starts uncounted. */
    nextLoginWindow: () => {
      clock.now += 15 * 60;
    },
    addUser,
    atSignIn,
    atConsent,
    code,
    token,
    redeem,
    async close() {
      await as.close();
      http.closeAllConnections();
      await new Promise((resolve) => http.close(resolve));
    },
  };
}

function scenarios(name: string, open: () => Promise<Store>): void {
  describe(`the authorization server on ${name}`, () => {
    let server: Awaited<ReturnType<typeof startServer>>;
    test('setup', async () => {
      server = await startServer(await open());
    });
    after(() => server?.close());
    // Each test signs in from 127.0.0.1: none may inherit another's failed attempts.
    beforeEach(() => server?.nextLoginWindow());

    test(`OWASP ASVS 2.2.1: of 40 parallel wrong passwords for one user exactly ${LIMIT} are checked (401), the rest refused (429)`, async () => {
      const user = await server.addUser();
      const browser = await server.atSignIn();
      const statuses = await Promise.all(
        Array.from({ length: 40 }, () =>
          browser.post(`${browser.interaction}/login`, {
            csrf: browser.csrf,
            username: user.username,
            password: 'wrong password',
          }),
        ),
      ).then((responses) => responses.map((r) => r.status));
      assert.equal(statuses.filter((s) => s === 401).length, LIMIT);
      assert.equal(statuses.filter((s) => s === 429).length, 40 - LIMIT);
      const right = await browser.post(`${browser.interaction}/login`, {
        csrf: browser.csrf,
        username: user.username,
        password: PASSWORD,
      });
      assert.equal(right.status, 429, 'within the window even the right password waits');
    });

    test('OWASP ASVS 2.2.1: a user who signs in successfully is never locked out by success', async () => {
      const user = await server.addUser();
      for (let i = 0; i < LIMIT * 2; i++) {
        const browser = await server.atSignIn();
        const res = await browser.post(`${browser.interaction}/login`, {
          csrf: browser.csrf,
          username: user.username,
          password: PASSWORD,
        });
        assert.equal(res.status, 303, `sign-in ${i + 1}`);
      }
    });

    test('RFC 6749 §4.1.2: five parallel approvals of one consent issue one code; the others see the expired page', async () => {
      const user = await server.addUser();
      const browser = await server.atConsent(user);
      const responses = await Promise.all(
        Array.from({ length: 5 }, () =>
          browser.post(`${browser.interaction}/consent`, {
            csrf: browser.csrf,
            decision: 'approve',
            scope: APPROVED_SCOPE,
          }),
        ),
      );
      const codes = responses.filter((r) => r.status === 302);
      assert.equal(codes.length, 1, 'one code');
      assert.deepEqual(
        responses.filter((r) => r.status !== 302).map((r) => r.status),
        [400, 400, 400, 400],
      );
      const code = new URL(codes[0]?.headers.get('location') ?? '').searchParams.get('code') ?? '';
      assert.equal((await server.redeem({ code, code_verifier: browser.code_verifier })).status, 200);
    });

    test('RFC 9700 §4.14.2: 50 parallel refreshes of one token over HTTP end with one successor, which every one of them receives', async () => {
      const user = await server.addUser();
      const first = (await (await server.redeem(await server.code(user))).json()) as {
        refresh_token: string;
      };
      const responses = await Promise.all(
        Array.from({ length: 50 }, () =>
          server.token({ grant_type: 'refresh_token', refresh_token: first.refresh_token }),
        ),
      );
      assert.deepEqual(
        responses.map((r) => r.status),
        Array(50).fill(200),
      );
      const bodies = (await Promise.all(responses.map((r) => r.json()))) as {
        access_token: string;
        refresh_token: string;
      }[];
      const successors = new Set(bodies.map((b) => b.refresh_token));
      assert.equal(successors.size, 1, 'one successor');
      assert.equal(
        new Set(bodies.map((b) => b.access_token)).size,
        1,
        'the retries get the very same response',
      );
      const [grant] = await server.store.listGrants({ subject: user.id });
      assert.ok(grant && grant.revoked_at === undefined, 'the grant lives on');
      // The successor works once; the first token, presented again after it, is reuse.
      const [successor] = [...successors];
      const next = await server.token({ grant_type: 'refresh_token', refresh_token: successor as string });
      assert.equal(next.status, 200);
      const reuse = await server.token({ grant_type: 'refresh_token', refresh_token: first.refresh_token });
      assert.equal(reuse.status, 400);
      assert.equal(((await reuse.json()) as { error: string }).error, 'invalid_grant');
    });

    test('RFC 6749 §5.2: a code issued before its user was disabled or removed is invalid_grant at the token endpoint', async () => {
      for (const change of ['disable', 'remove'] as const) {
        const user = await server.addUser();
        const issued = await server.code(user);
        if (change === 'disable') await server.store.setUserDisabled(user.id, true);
        else await server.store.deleteUser(user.id);
        const res = await server.redeem(issued);
        assert.equal(res.status, 400, change);
        assert.equal(((await res.json()) as { error: string }).error, 'invalid_grant');
        assert.deepEqual(await server.store.listGrants({ subject: user.id, include_revoked: true }), []);
      }
    });

    test('RFC 6749 §5.2: a refresh token of a user disabled or removed since is invalid_grant, even before its grant is revoked', async () => {
      for (const change of ['disable', 'remove'] as const) {
        const user = await server.addUser();
        const tokens = (await (await server.redeem(await server.code(user))).json()) as {
          refresh_token: string;
        };
        if (change === 'disable') await server.store.setUserDisabled(user.id, true);
        else await server.store.deleteUser(user.id);
        const res = await server.token({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token });
        assert.equal(res.status, 400, change);
        assert.equal(((await res.json()) as { error: string }).error, 'invalid_grant');
      }
    });
  });
}

const dir = mkdtempSync(join(tmpdir(), 'gatehouse-server-on-store-'));
after(() => rmSync(dir, { recursive: true, force: true }));
scenarios('SQLite', async () => new SqliteStore(join(dir, 'gatehouse.db')));

await withTestDatabase((db) => {
  scenarios('PostgreSQL', () => db.open(db.newSchema()));
});

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createPkcePair } from '@gatehouse/core';
import { decodeJwt } from 'jose';
import { approvedScopeOf, frozenClock, type Harness, startAuthorizationServer } from './harness.ts';

/**
 * The consent form over HTTP: the user's choices become the code's, the grant's and the token's
 * scope (RFC 6749 §3.3), and nothing the form adds or leaves out widens or escapes them.
 */
const clock = frozenClock();
let h: Harness;
let toolsOfFails = false;
before(async () => {
  h = await startAuthorizationServer({
    now: clock.now,
    consent: { required: ['tools:list'], uncheckedByDefault: ['tools:execute:database'] },
    toolsOf: async () => {
      if (toolsOfFails) throw new Error('upstream down');
      return [
        { name: 'read_file', scope: 'tools:execute:filesystem' },
        { name: 'query', scope: 'tools:execute:database' },
      ];
    },
  });
});
after(() => h.close());

/** A signed-in browser at the consent page of a fresh authorization request for `scope`. */
async function atConsent(
  client: { client_id: string },
  user: { username: string; password: string },
  scope: string,
  cookies = new Map<string, string>(),
) {
  const { code_verifier, code_challenge } = createPkcePair();
  const jar = () => [...cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  const keep = (res: Response) => {
    for (const c of res.headers.getSetCookie()) {
      const [pair = ''] = c.split(';');
      const at = pair.indexOf('=');
      cookies.set(pair.slice(0, at), pair.slice(at + 1));
    }
    return res;
  };
  const get = async (path: string) =>
    keep(await fetch(new URL(path, h.issuer), { headers: { cookie: jar() }, redirect: 'manual' }));
  const csrfOf = (html: string) => /name="csrf" value="([^"]+)"/.exec(html)?.[1] ?? '';
  const url = new URL('/oauth/authorize', h.issuer);
  url.search = new URLSearchParams({
    response_type: 'code',
    client_id: client.client_id,
    code_challenge,
    code_challenge_method: 'S256',
    scope,
  }).toString();
  const interaction = (await get(url.href)).headers.get('location') ?? '';
  let html = await (await get(interaction)).text();
  if (html.includes('name="password"')) {
    const login = keep(
      await h.post(`${interaction}/login`, { csrf: csrfOf(html), ...user }, { cookie: jar() }),
    );
    assert.equal(login.status, 303);
    html = await (await get(interaction)).text();
  }
  /** Posts the form with these fields (repeated `scope` fields, as a browser sends checkboxes). */
  const answer = async (fields: [string, string][]) =>
    keep(
      await fetch(new URL(`${interaction}/consent`, h.issuer), {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: jar(), origin: h.issuer },
        body: new URLSearchParams([['csrf', csrfOf(html)], ...fields]),
        redirect: 'manual',
      }),
    );
  /** Redeems the code of an approval's redirect. */
  const redeem = async (approval: Response) => {
    const code = new URL(approval.headers.get('location') ?? '').searchParams.get('code') ?? '';
    assert.ok(code, `a code (got ${approval.status})`);
    const res = await h.post('/oauth/token', {
      grant_type: 'authorization_code',
      code,
      code_verifier,
      client_id: client.client_id,
    });
    assert.equal(res.status, 200);
    return (await res.json()) as { access_token: string; scope: string; refresh_token?: string };
  };
  return { html, answer, redeem, cookies };
}

const scopesOf = (token: { access_token: string }) =>
  String(decodeJwt(token.access_token).scope).split(' ').sort();

test('RFC 6749 §3.3: the ticked subset of the request becomes the grant, the access token and the token response scope', async () => {
  const client = await h.addClient();
  const user = await h.addUser('subset-user');
  const c = await atConsent(client, user, 'tools:list tools:execute:filesystem resources:read prompts:list');
  assert.match(c.html, /Tools: read_file/, 'the tools a scope unlocks are named');
  const tokens = await c.redeem(
    await c.answer([
      ['scope', 'tools:list'],
      ['scope', 'resources:read'],
      ['decision', 'approve'],
    ]),
  );
  assert.deepEqual(tokens.scope.split(' ').sort(), ['resources:read', 'tools:list']);
  assert.deepEqual(scopesOf(tokens), ['resources:read', 'tools:list']);
  const [grant] = await h.store.listGrants({ subject: user.id });
  assert.equal(grant?.scope, 'tools:list resources:read');
  const consent = await h.store.getConsent(user.id, client.client_id, `${h.issuer}/mcp`);
  assert.equal(consent?.scope, 'tools:list resources:read', 'what was left unticked is not remembered');
});

test('OIDC Core §11, RFC 6749 §3.3: unticking offline_access means no refresh token, for a client that may otherwise refresh', async () => {
  const client = await h.addClient();
  const user = await h.addUser('offline-user');
  const declined = await atConsent(client, user, 'tools:list offline_access');
  const without = await declined.redeem(
    await declined.answer([
      ['scope', 'tools:list'],
      ['decision', 'approve'],
    ]),
  );
  assert.equal(without.refresh_token, undefined);
  const granted = await atConsent(client, user, 'tools:list offline_access', declined.cookies);
  const withRefresh = await granted.redeem(
    await granted.answer([
      ['scope', 'tools:list'],
      ['scope', 'offline_access'],
      ['decision', 'approve'],
    ]),
  );
  assert.equal(typeof withRefresh.refresh_token, 'string', 'ticked, it is issued');
});

test('RFC 6749 §3.3: tampered form values are ignored: scopes not requested, a parent of a requested one, malformed tokens', async () => {
  const client = await h.addClient();
  const user = await h.addUser('tamper-user');
  const c = await atConsent(client, user, 'tools:list tools:execute:filesystem');
  const tokens = await c.redeem(
    await c.answer([
      ['scope', 'tools:execute'],
      ['scope', 'tools:execute:database prompts:execute'],
      ['scope', '"><script>'],
      ['decision', 'approve'],
    ]),
  );
  assert.deepEqual(scopesOf(tokens), ['tools:list'], 'only the required scope the request named');
});

test('a required scope cannot be dropped: it is granted though the form leaves it out', async () => {
  const client = await h.addClient();
  const user = await h.addUser('required-user');
  const c = await atConsent(client, user, 'tools:list resources:read');
  assert.match(c.html, /<input type="hidden" name="scope" value="tools:list">/);
  const tokens = await c.redeem(
    await c.answer([
      ['scope', 'resources:read'],
      ['decision', 'approve'],
    ]),
  );
  assert.deepEqual(scopesOf(tokens), ['resources:read', 'tools:list']);
});

test('an approval with nothing ticked shows the page again with a message and issues no code; the request can still be answered', async () => {
  const client = await h.addClient();
  const user = await h.addUser('empty-user');
  const c = await atConsent(client, user, 'resources:read offline_access');
  const empty = await c.answer([
    ['scope', 'offline_access'],
    ['decision', 'approve'],
  ]);
  assert.equal(empty.status, 400);
  assert.equal(empty.headers.get('location'), null);
  assert.match(await empty.text(), /role="alert"[^>]*>Choose at least one thing to allow, or choose Deny\./);
  const tokens = await c.redeem(
    await c.answer([
      ['scope', 'resources:read'],
      ['decision', 'approve'],
    ]),
  );
  assert.deepEqual(scopesOf(tokens), ['resources:read']);
});

test('RFC 6749 §3.3 step-up: the page offers only the scope not approved before, and the code keeps the earlier choices', async () => {
  const client = await h.addClient();
  const user = await h.addUser('stepup-user');
  const first = await atConsent(client, user, 'tools:list tools:execute:filesystem tools:execute:database');
  assert.doesNotMatch(
    /<input[^>]*value="tools:execute:database"[^>]*>/.exec(first.html)?.[0] ?? '',
    /checked/,
    'offered unticked by default',
  );
  const narrow = await first.redeem(
    await first.answer([
      ['scope', approvedScopeOf(first.html)],
      ['decision', 'approve'],
    ]),
  );
  assert.deepEqual(scopesOf(narrow), ['tools:execute:filesystem', 'tools:list']);

  // The same browser asks again with the database scope: only it is a choice now.
  const again = await atConsent(
    client,
    user,
    'tools:list tools:execute:filesystem tools:execute:database',
    first.cookies,
  );
  assert.match(again.html, /can already:/);
  assert.match(again.html, /It now also asks to:/);
  assert.deepEqual(
    [...again.html.matchAll(/<input[^>]*name="scope"[^>]*value="([^"]+)"/g)].map((m) => m[1]),
    ['tools:execute:database'],
  );
  const wider = await again.redeem(
    await again.answer([
      ['scope', 'tools:execute:database'],
      ['decision', 'approve'],
    ]),
  );
  assert.deepEqual(scopesOf(wider), ['tools:execute:database', 'tools:execute:filesystem', 'tools:list']);
});

test('consent still works when toolsOf fails: the page shows the sentences without tool names', async () => {
  const client = await h.addClient();
  const user = await h.addUser('tools-down-user');
  toolsOfFails = true;
  try {
    const c = await atConsent(client, user, 'tools:execute:filesystem');
    assert.match(c.html, /Run filesystem tools/);
    assert.doesNotMatch(c.html, /Tools: /);
  } finally {
    toolsOfFails = false;
  }
});

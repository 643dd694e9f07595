import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Agent, authorize, authorizeUrl, csrfOf, pkce } from './helpers/agent.ts';
import { type InProcessServer, startInProcess } from './helpers/in-process.ts';

/**
 * Sign-in and consent pages over real HTTP: rate limits, what the consent screen says, approve and
 * deny, remembered consent, CSRF, framing and cookie attributes.
 */
let s: InProcessServer;
let https: InProcessServer;
const CLIENT = 'interaction-client';
const CALLBACK = 'https://notes.example/oauth/callback';
const user = { username: 'carol', password: 'carol-password-123' };
const victim = { username: 'dave', password: 'dave-password-123' };
/** A second person sharing the browser in the remembered-consent test. */
const spare = { username: 'erin', password: 'erin-password-123' };

before(async () => {
  // Generous here; the rate-limit test has its own limit.
  s = await startInProcess({ loginAttemptsPer15Minutes: 100 });
  await s.addUser(user.username, user.password);
  await s.addUser(spare.username, spare.password);
  await s.addClient({ client_id: CLIENT, client_name: 'Notes <b>for</b> MCP', redirect_uris: [CALLBACK] });
  // An https issuer, reached over loopback http: only the cookie attributes are looked at.
  https = await startInProcess({ issuer: 'https://auth.example.test' });
  await https.addClient({ client_id: CLIENT, redirect_uris: [CALLBACK] });
});
after(async () => {
  await s?.close();
  await https?.close();
});

/** Starts an authorization and returns the interaction URL and the sign-in page. */
async function startInteraction(agent: Agent, server = s, scope?: string) {
  const response = await agent.fetch(
    authorizeUrl(server.url, {
      response_type: 'code',
      client_id: CLIENT,
      redirect_uri: CALLBACK,
      state: 'st',
      scope,
      code_challenge: pkce().challenge,
      code_challenge_method: 'S256',
    }),
  );
  const interaction = `${server.url}${response.headers.get('location')}`;
  const page = await agent.fetch(interaction);
  return { interaction, page, html: await page.text() };
}

const login = (agent: Agent, interaction: string, form: Record<string, string>, headers = {}) =>
  agent.fetch(`${interaction}/login`, { method: 'POST', form, headers });

function assertFramingForbidden(response: Response) {
  assert.match(response.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/);
  assert.equal(response.headers.get('x-frame-options'), 'DENY');
}

describe('sign-in', () => {
  test('local users sign in with username and password; a wrong password gets the form again with 401', async () => {
    const agent = new Agent();
    const { interaction, html } = await startInteraction(agent);
    assert.match(html, /name="password"/);
    const wrong = await login(agent, interaction, { csrf: csrfOf(html), ...user, password: 'nope-nope' });
    assert.equal(wrong.status, 401);
    const again = await wrong.text();
    assert.match(again, /incorrect/);
    const right = await login(agent, interaction, { csrf: csrfOf(again), ...user });
    assert.equal(right.status, 303);
    const consent = await (await agent.fetch(interaction)).text();
    assert.match(consent, /value="approve"/);
  });

  test('OWASP ASVS 2.2.1: repeated failed sign-ins for a user are rate-limited with a 429 page', async (t) => {
    const limited = await startInProcess({ loginAttemptsPer15Minutes: 3 });
    t.after(() => limited.close());
    await limited.addUser(victim.username, victim.password);
    await limited.addClient({ client_id: CLIENT, redirect_uris: [CALLBACK] });
    const agent = new Agent();
    const { interaction, html } = await startInteraction(agent, limited);
    let csrf = csrfOf(html);
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) {
      const response = await login(agent, interaction, { csrf, ...victim, password: `guess-${i}-guess` });
      statuses.push(response.status);
      const page = await response.text();
      csrf = csrfOf(page);
      if (response.status === 429) {
        assert.match(response.headers.get('content-type') ?? '', /^text\/html/);
        assert.match(page, /Too many sign-in attempts/);
        assertFramingForbidden(response);
      }
    }
    assert.deepEqual(statuses, [401, 401, 401, 429]);
    // Once limited, even the right password is refused for the rest of the window.
    const right = await login(agent, interaction, { csrf, ...victim });
    assert.equal(right.status, 429);
  });

  test('configuration: loginAttemptsPer15Minutes limits failed sign-ins, so successful ones do not lock a user out', async () => {
    const server = await startInProcess({ loginAttemptsPer15Minutes: 2 });
    try {
      await server.addUser(user.username, user.password);
      await server.addClient({ client_id: CLIENT, redirect_uris: [CALLBACK] });
      for (let i = 0; i < 3; i++) {
        const agent = new Agent();
        const { interaction, html } = await startInteraction(agent, server);
        const response = await login(agent, interaction, { csrf: csrfOf(html), ...user });
        assert.equal(response.status, 303, `sign-in ${i + 1}`);
      }
    } finally {
      await server.close();
    }
  });
});

describe('consent', () => {
  test('MCP security best practices: the consent screen names the app, says who vouches for it, shows the redirect host and each scope as a sentence', async () => {
    const flow = await authorize({
      issuer: s.issuer,
      clientId: CLIENT,
      redirectUri: CALLBACK,
      scope: 'tools:execute:filesystem resources:read',
      decision: 'deny',
      ...user,
    });
    const page = flow.consentPage ?? '';
    // The name is shown escaped: a client cannot inject markup into the consent screen.
    assert.match(page, /Notes &lt;b&gt;for&lt;\/b&gt; MCP/);
    assert.match(page, /Registered by the administrator of this server/, 'an admin-registered client');
    assert.match(page, /class="redirect-host">notes\.example</);
    assert.match(page, /Run filesystem tools: read and write your files/);
    assert.match(page, /Read resources/);
    assert.doesNotMatch(page, /<li[^>]*>tools:execute:filesystem</, 'scopes are sentences, not tokens');
  });

  test('RFC 6749 §4.1.2.1, RFC 9207 §2: deny redirects with access_denied, state and iss, and issues no code', async () => {
    const flow = await authorize({
      issuer: s.issuer,
      clientId: CLIENT,
      redirectUri: CALLBACK,
      state: 'deny-state',
      decision: 'deny',
      ...user,
    });
    assert.equal(flow.response.status, 302);
    assert.ok(flow.response.headers.get('location')?.startsWith(`${CALLBACK}?`));
    assert.equal(flow.params.error, 'access_denied');
    assert.equal(flow.params.state, 'deny-state');
    assert.equal(flow.params.iss, s.issuer);
    assert.equal(flow.params.code, undefined);
  });

  test('consent is remembered per user, client and scopes: a second authorization skips the screen, a wider one asks again', async () => {
    const agent = new Agent();
    const opts = { issuer: s.issuer, clientId: CLIENT, redirectUri: CALLBACK, agent, ...user };
    const first = await authorize({ ...opts, scope: 'tools:list prompts:list' });
    assert.equal(first.consentShown, true);
    assert.ok(first.params.code);
    const second = await authorize({ ...opts, scope: 'tools:list' });
    assert.equal(second.consentShown, false, 'a covered scope must not ask again');
    assert.ok(second.params.code);
    assert.equal(second.params.iss, s.issuer);
    const wider = await authorize({ ...opts, scope: 'tools:list tools:execute' });
    assert.equal(wider.consentShown, true, 'a scope not yet approved must ask again');
    // Another user of the same browser is asked for themselves.
    const other = await authorize({ ...opts, agent: new Agent(), scope: 'tools:list', ...spare });
    assert.equal(other.consentShown, true);
  });
  test('remembered consent accumulates: approving one scope then another remembers both', async () => {
    const agent = new Agent();
    const opts = { issuer: s.issuer, clientId: CLIENT, redirectUri: CALLBACK, agent, ...spare };
    assert.equal((await authorize({ ...opts, scope: 'resources:read' })).consentShown, true);
    assert.equal((await authorize({ ...opts, scope: 'prompts:execute' })).consentShown, true);
    const first = await authorize({ ...opts, scope: 'resources:read' });
    assert.equal(first.consentShown, false, 'the first approval must still be remembered');
    const both = await authorize({ ...opts, scope: 'resources:read prompts:execute' });
    assert.equal(both.consentShown, false);
  });
});

describe('CSRF and framing', () => {
  test('MCP security best practices: a sign-in POST without the CSRF token is refused', async () => {
    const agent = new Agent();
    const { interaction } = await startInteraction(agent);
    const response = await login(agent, interaction, { ...user });
    assert.equal(response.status, 400);
    assert.equal(
      response.headers.getSetCookie().some((c) => c.includes('gatehouse_session')),
      false,
    );
  });

  test('MCP security best practices: a consent POST without the CSRF token, or from another Origin, is refused', async () => {
    const agent = new Agent();
    const { interaction, html } = await startInteraction(agent);
    assert.equal((await login(agent, interaction, { csrf: csrfOf(html), ...user })).status, 303);
    const consentHtml = await (await agent.fetch(interaction)).text();
    const token = csrfOf(consentHtml);

    const missing = await agent.fetch(`${interaction}/consent`, {
      method: 'POST',
      form: { decision: 'approve' },
    });
    assert.equal(missing.status, 400);
    assert.equal(missing.headers.get('location'), null);

    const forged = await agent.fetch(`${interaction}/consent`, {
      method: 'POST',
      form: { csrf: 'A'.repeat(43), decision: 'approve' },
    });
    assert.equal(forged.status, 400);

    const crossSite = await agent.fetch(`${interaction}/consent`, {
      method: 'POST',
      form: { csrf: token, decision: 'approve' },
      headers: { origin: 'https://evil.example' },
    });
    assert.equal(crossSite.status, 400);
    assert.equal(crossSite.headers.get('location'), null);

    // The same request from our own origin goes through: the refusals above were the CSRF check.
    const sameSite = await agent.fetch(`${interaction}/consent`, {
      method: 'POST',
      form: { csrf: token, decision: 'approve' },
      headers: { origin: s.issuer },
    });
    assert.equal(sameSite.status, 302);
    assert.ok(new URL(sameSite.headers.get('location') as string).searchParams.get('code'));
  });

  test("RFC 9700 §4.16: every page forbids framing (frame-ancestors 'none')", async () => {
    const agent = new Agent();
    const { interaction, page, html } = await startInteraction(agent);
    assertFramingForbidden(page);
    const afterLogin = await login(agent, interaction, { csrf: csrfOf(html), ...user });
    const consent = await agent.fetch(interaction);
    assertFramingForbidden(consent);
    assert.equal(afterLogin.status, 303);
    assertFramingForbidden(await fetch(authorizeUrl(s.issuer, { client_id: 'unknown' })));
    assertFramingForbidden(await fetch(`${s.issuer}/interaction/${'x'.repeat(32)}`));
    assertFramingForbidden(await fetch(`${s.issuer}/nowhere`));
    const failed = await login(new Agent(), interaction, { csrf: 'x', ...user });
    if ((failed.headers.get('content-type') ?? '').startsWith('text/html')) assertFramingForbidden(failed);
  });
});

describe('cookies', () => {
  test('RFC 6265bis: on an http://127.0.0.1 issuer cookies are HttpOnly and SameSite=Lax, without Secure or __Host-', async () => {
    const agent = new Agent();
    const { interaction, html } = await startInteraction(agent);
    await login(agent, interaction, { csrf: csrfOf(html), ...user });
    const names = agent.setCookies.map((c) => c.split('=')[0]);
    assert.ok(names.includes('gatehouse_csrf'), names.join());
    assert.ok(names.includes('gatehouse_session'), names.join());
    for (const cookie of agent.setCookies) {
      assert.match(cookie, /; HttpOnly/);
      assert.match(cookie, /; SameSite=Lax/);
      assert.match(cookie, /; Path=\//);
      assert.doesNotMatch(cookie, /; Secure/);
      assert.doesNotMatch(cookie, /^__Host-/);
    }
  });

  test('RFC 6265bis §4.1.3.2: on an https issuer cookies are __Host- prefixed, Secure, HttpOnly and SameSite=Lax', async () => {
    const agent = new Agent();
    const { page } = await startInteraction(agent, https);
    assert.equal(page.status, 200);
    assert.ok(agent.setCookies.length > 0);
    for (const cookie of agent.setCookies) {
      assert.match(cookie, /^__Host-gatehouse_/);
      assert.match(cookie, /; Secure/);
      assert.match(cookie, /; HttpOnly/);
      assert.match(cookie, /; SameSite=Lax/);
      assert.match(cookie, /; Path=\//);
      assert.doesNotMatch(cookie, /; Domain=/i);
    }
  });
});

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { inspect } from 'node:util';
import { createAuthorizationServer } from '@gatehouse/server';
import { Agent, authorizeUrl, csrfOf, pkce } from './helpers/agent.ts';
import { type InProcessServer, startInProcess } from './helpers/in-process.ts';
import { startUpstreamIdp, type UpstreamIdp } from './helpers/upstream-idp.ts';

/**
 * Signing in with an upstream identity provider: a real OpenID Connect provider (oidc-provider) on
 * loopback, Gatehouse in process on a real SQLite file, and a scripted browser between them.
 */
let idp: UpstreamIdp;
let gh: InProcessServer;
const REDIRECT = 'http://127.0.0.1/callback';

before(async () => {
  // The provider must know Gatehouse's callbacks and Gatehouse the provider's issuer: the provider
  // listens first, Gatehouse starts with its issuer, then the provider learns the callbacks.
  idp = await startUpstreamIdp();
  const idpUrl = idp.issuer;
  gh = await startInProcess(() => {
    const common = {
      issuer: idpUrl,
      clientId: idp.clientId,
      clientSecret: idp.clientSecret,
      dangerouslyAllowInsecureHttp: true,
    };
    const githubStyle = {
      type: 'oauth2' as const,
      authorizationEndpoint: `${idpUrl}/auth`,
      tokenEndpoint: `${idpUrl}/token`,
      userinfoEndpoint: `${idpUrl}/me`,
      clientId: idp.clientId,
      clientSecret: idp.clientSecret,
      // oidc-provider's userinfo needs `openid`; a GitHub-style provider reads the user the same way.
      scopes: ['openid', 'email', 'profile'],
      claims: { subject: 'sub', name: 'preferred_username' },
      dangerouslyAllowInsecureHttp: true,
    };
    return {
      identityProviders: [
        { id: 'kc', name: 'Keycloak', ...common },
        {
          id: 'corp',
          name: 'Corp SSO',
          ...common,
          allowedEmailDomains: ['example.com'],
          requiredClaim: { claim: 'groups', value: 'mcp-users' },
        },
        { id: 'gh', name: 'GitHub', ...githubStyle },
        {
          // GitHub-style: sends no email_verified, its addresses verified all the same.
          id: 'ghv',
          name: 'GitHub Verified',
          ...githubStyle,
          allowedEmailDomains: ['example.com'],
          dangerouslyTrustUnverifiedEmail: true,
        },
      ],
    };
  });
  idp.register(['kc', 'corp', 'gh', 'ghv'].map((p) => `${gh.issuer}/signin/${p}/callback`));
  idp.accounts.set('alice', {
    email: 'shared@example.com',
    email_verified: true,
    preferred_username: 'alice',
    groups: ['mcp-users'],
  });
  idp.accounts.set('bob', {
    email: 'shared@example.com',
    email_verified: true,
    preferred_username: 'bob',
    groups: [],
  });
  idp.accounts.set('mallory', {
    email: 'mallory@evil.test',
    email_verified: true,
    preferred_username: 'mallory',
    groups: ['mcp-users'],
  });
  idp.accounts.set('carol', {
    email: 'carol@example.com',
    email_verified: true,
    preferred_username: 'carol',
    groups: ['mcp-users'],
  });
  // nOAuth: an address the provider does not vouch for, set by the user (Entra ID sends no
  // email_verified at all), or marked unverified as the string some providers send.
  idp.accounts.set('eve', { email: 'ceo@example.com', preferred_username: 'eve', groups: ['mcp-users'] });
  idp.accounts.set('trudy', {
    email: 'cfo@example.com',
    email_verified: 'false',
    preferred_username: 'trudy',
    groups: ['mcp-users'],
  });
  idp.accounts.set('dan', {
    email: 'dan@example.com',
    email_verified: 'true',
    preferred_username: 'dan',
    groups: ['mcp-users'],
  });
  await gh.addClient({ client_id: 'app', redirect_uris: [REDIRECT] });
});
after(async () => {
  await idp?.close();
  await gh?.close();
});

/** From a "Continue with …" link through the provider's redirects to Gatehouse's callback answer. */
async function signIn(agent: Agent, start: string, account: string): Promise<Response> {
  idp.signInAs = account;
  let url = new URL(start, gh.url);
  for (let hops = 0; hops < 12; hops++) {
    const response = await agent.fetch(url);
    if (url.pathname.endsWith('/callback') && url.origin === gh.url) return response;
    const location = response.headers.get('location');
    assert.ok(location, `no redirect from ${url.pathname} (${response.status}): ${await response.text()}`);
    url = new URL(location, url);
  }
  throw new Error('too many redirects');
}

/** Follows a "Continue with …" link through the provider up to Gatehouse's callback, not fetching it. */
async function callbackOf(agent: Agent, start: string, account: string): Promise<URL> {
  idp.signInAs = account;
  let url = new URL(start, gh.url);
  for (let hops = 0; hops < 12; hops++) {
    const location = (await agent.fetch(url)).headers.get('location');
    assert.ok(location, `no redirect from ${url.pathname}`);
    url = new URL(location, url);
    if (url.origin === gh.url && url.pathname.endsWith('/callback')) return url;
  }
  throw new Error('too many redirects');
}

const signInCookies = (agent: Agent) =>
  [...agent.cookies.keys()].filter((k) => k.startsWith('gatehouse_signin'));
const setsSession = (response: Response) =>
  response.headers.getSetCookie().some((c) => c.startsWith('gatehouse_session='));

const userOf = async (provider: string, subject: string) =>
  (await gh.store.getIdentity(provider, subject))?.user_id;

describe('sign-in with upstream identity providers', () => {
  test('OpenID Connect Core §3.1.2: the sign-in page offers each provider; the first sign-in provisions the user, and Gatehouse consent still follows a silent upstream approval', async () => {
    const agent = new Agent();
    const authorize = await agent.fetch(
      authorizeUrl(gh.issuer, {
        response_type: 'code',
        client_id: 'app',
        redirect_uri: REDIRECT,
        scope: 'tools:list',
        state: 's1',
        code_challenge: pkce().challenge,
        code_challenge_method: 'S256',
      }),
    );
    const interaction = authorize.headers.get('location') as string;
    const loginPage = await (await agent.fetch(new URL(interaction, gh.url))).text();
    assert.match(loginPage, /Continue with Keycloak/);
    assert.match(loginPage, /Continue with GitHub/);
    const link = /href="(\/signin\/kc\?interaction=[^"]+)"/.exec(loginPage)?.[1] as string;
    const back = await signIn(agent, link.replaceAll('&amp;', '&'), 'alice');
    assert.equal(back.status, 303);
    assert.equal(back.headers.get('location'), interaction);
    const consent = await (await agent.fetch(new URL(interaction, gh.url))).text();
    assert.match(
      consent,
      /\/consent"/,
      'the consent page, not a code: upstream approval is not consent to the client',
    );
    const userId = await userOf('kc', 'alice');
    assert.ok(userId);
    assert.equal((await gh.store.getUser(userId))?.username, 'alice');
  });

  test('OpenID Connect Core §5.7: the pair (provider, subject) decides the user, never the email address', async () => {
    await signIn(new Agent(), '/signin/kc', 'bob');
    await signIn(new Agent(), '/signin/gh', 'alice');
    const again = await signIn(new Agent(), '/signin/kc', 'alice');
    assert.equal(again.headers.get('location'), '/account/apps');
    const alice = await userOf('kc', 'alice');
    const bob = await userOf('kc', 'bob');
    const aliceAtGitHub = await userOf('gh', 'alice');
    assert.ok(alice && bob && aliceAtGitHub);
    // Same email, other subject: another user. Same subject, other provider: another user.
    assert.notEqual(bob, alice);
    assert.notEqual(aliceAtGitHub, alice);
    assert.deepEqual(
      (await gh.store.listIdentities(alice)).map((i) => `${i.provider}:${i.subject}`),
      ['kc:alice'],
    );
    assert.equal((await gh.store.getIdentity('gh', 'alice'))?.email, 'shared@example.com');
  });

  test("a provider's rules refuse with a clear page: an email outside the allowed domains, a missing group", async () => {
    const outsider = await signIn(new Agent(), '/signin/corp', 'mallory');
    assert.equal(outsider.status, 403);
    assert.match(await outsider.text(), /verified email address at example\.com/);
    const noGroup = await signIn(new Agent(), '/signin/corp', 'bob');
    assert.equal(noGroup.status, 403);
    assert.match(await noGroup.text(), /not one of those allowed/);
    assert.equal(await userOf('corp', 'mallory'), undefined);
    assert.equal(await userOf('corp', 'bob'), undefined);
    const member = await signIn(new Agent(), '/signin/corp', 'carol');
    assert.equal(member.status, 303);
  });

  test('OpenID Connect Core §5.1 (nOAuth): for allowedEmailDomains an email counts only when email_verified is true; a missing claim or "false" is refused with the reason', async () => {
    for (const account of ['eve', 'trudy']) {
      const agent = new Agent();
      const refused = await signIn(agent, '/signin/corp', account);
      assert.equal(refused.status, 403, account);
      const body = await refused.text();
      assert.match(body, /has not verified your email address/, account);
      assert.match(body, /belong to example\.com/, account);
      assert.equal(setsSession(refused), false, account);
      assert.equal(await userOf('corp', account), undefined, account);
    }
    // "true", as some providers send it, counts.
    assert.equal((await signIn(new Agent(), '/signin/corp', 'dan')).status, 303);
  });

  test('dangerouslyTrustUnverifiedEmail: a provider that sends no email_verified (GitHub-style) is trusted only when so configured, and an explicit "false" still refuses', async () => {
    const admitted = await signIn(new Agent(), '/signin/ghv', 'eve');
    assert.equal(admitted.status, 303);
    assert.ok(await userOf('ghv', 'eve'));
    const refused = await signIn(new Agent(), '/signin/ghv', 'trudy');
    assert.equal(refused.status, 403);
    assert.match(await refused.text(), /has not verified your email address/);
  });

  test("a returning user whom the provider's rules no longer accept (removed from the group) is refused at the next sign-in, with no session", async () => {
    idp.accounts.set('frank', {
      email: 'frank@example.com',
      email_verified: true,
      preferred_username: 'frank',
      groups: ['mcp-users', 'staff'],
    });
    const agent = new Agent();
    const first = await signIn(agent, '/signin/corp', 'frank');
    assert.equal(first.status, 303);
    assert.equal(setsSession(first), true);
    const frank = await userOf('corp', 'frank');
    assert.ok(frank);
    // Removed from the group at the provider; the same browser signs in again, and a fresh one.
    idp.accounts.set('frank', { ...idp.accounts.get('frank'), groups: ['staff'] });
    for (const browser of [agent, new Agent()]) {
      const again = await signIn(browser, '/signin/corp', 'frank');
      assert.equal(again.status, 403);
      assert.match(await again.text(), /not one of those allowed to sign in here/);
      assert.equal(setsSession(again), false);
    }
    const fresh = new Agent();
    await signIn(fresh, '/signin/corp', 'frank');
    assert.equal(fresh.cookies.has('gatehouse_session'), false);
    // Still the same user (the identity stays linked), only refused.
    assert.equal(await userOf('corp', 'frank'), frank);
  });

  test('two sign-ins started in one browser (two tabs, two providers) both complete, each cookie cleared at its callback', async () => {
    const agent = new Agent();
    const first = await callbackOf(agent, '/signin/kc?return=/admin/users', 'alice');
    const second = await callbackOf(agent, '/signin/gh?return=/admin', 'alice');
    const third = await callbackOf(agent, '/signin/kc', 'alice');
    assert.equal(signInCookies(agent).length, 3);
    for (const [callback, location] of [
      [first, '/admin/users'],
      [third, '/account/apps'],
      [second, '/admin'],
    ] as const) {
      const back = await agent.fetch(callback);
      assert.equal(back.status, 303, `${callback.pathname}: ${await back.text()}`);
      assert.equal(back.headers.get('location'), location);
      assert.equal(setsSession(back), true);
    }
    assert.deepEqual(signInCookies(agent), []);
  });

  test('sign-in cookies stay bounded: starting many keeps the newest few, each with a short Max-Age', async () => {
    const agent = new Agent();
    const callbacks: URL[] = [];
    for (let i = 0; i < 8; i++) callbacks.push(await callbackOf(agent, '/signin/kc', 'alice'));
    assert.equal(signInCookies(agent).length, 5);
    for (const cookie of agent.setCookies.filter(
      (c) => c.startsWith('gatehouse_signin') && !/Max-Age=0\b/.test(c),
    ))
      assert.match(cookie, /Max-Age=600\b/);
    // The newest completes; the oldest, its cookie gone, is expired.
    assert.equal((await agent.fetch(callbacks[7] as URL)).status, 303);
    assert.equal((await agent.fetch(callbacks[0] as URL)).status, 400);
  });

  test('a user disabled in Gatehouse cannot sign in through any provider', async () => {
    await signIn(new Agent(), '/signin/kc', 'carol');
    const carol = (await userOf('kc', 'carol')) as string;
    await gh.store.linkIdentity({ provider: 'gh', subject: 'carol', user_id: carol, created_at: 1 });
    await gh.store.setUserDisabled(carol, true);
    for (const provider of ['kc', 'gh']) {
      const agent = new Agent();
      const refused = await signIn(agent, `/signin/${provider}`, 'carol');
      assert.equal(refused.status, 403, provider);
      assert.match(await refused.text(), /disabled/);
      assert.equal([...agent.cookies.keys()].includes('gatehouse_session'), false);
    }
  });

  test('RFC 6749 §10.12: a callback reaching another browser, or replayed, signs nobody in', async () => {
    const victim = new Agent();
    idp.signInAs = 'alice';
    // The attacker starts a sign-in and lets the provider redirect; the victim's browser gets the callback.
    const attacker = new Agent();
    let url = new URL('/signin/kc', gh.url);
    let callback: URL | undefined;
    for (let hops = 0; hops < 12 && !callback; hops++) {
      const location = (await attacker.fetch(url)).headers.get('location') as string;
      url = new URL(location, url);
      if (url.pathname === '/signin/kc/callback') callback = url;
    }
    assert.ok(callback);
    const stolen = await victim.fetch(callback);
    assert.equal(stolen.status, 400);
    assert.equal(victim.cookies.has('gatehouse_session'), false);
    // Taken once: even the browser that started it cannot use it again.
    const replay = await attacker.fetch(callback);
    assert.equal(replay.status, 400);
  });
});

test("identity providers' client secrets stay off the resolved configuration and the context", () => {
  const seen = inspect(gh.as.context, { depth: 8 }) + inspect(gh.as, { depth: 4 });
  assert.equal(seen.includes(idp.clientSecret), false);
  assert.equal(gh.as.context.config.identityProviders.length, 4);
});

describe('passwords switched off', () => {
  let server: InProcessServer;
  before(async () => {
    server = await startInProcess({
      passwordSignIn: false,
      identityProviders: [
        {
          id: 'kc',
          name: 'Keycloak',
          issuer: 'http://127.0.0.1:9',
          clientId: 'x',
          dangerouslyAllowInsecureHttp: true,
        },
      ],
    });
    await server.addUser('dave', 'dave-password-123');
  });
  after(() => server?.close());

  test('the sign-in page offers the providers only, and a right password is refused', async () => {
    const agent = new Agent();
    const form = await (await agent.fetch(new URL('/login', server.url))).text();
    assert.match(form, /Continue with Keycloak/);
    assert.doesNotMatch(form, /type="password"/);
    // A valid form token, from a twin with passwords on (same store and master secret): only the
    // setting may refuse the post, not the CSRF check.
    const twin = await createAuthorizationServer({
      issuer: server.issuer,
      store: server.store,
      masterSecret: server.masterSecret,
    });
    const cookie = [...agent.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    const twinForm = await (
      await twin.fetch(new Request(new URL('/login', server.url), { headers: { cookie } }))
    ).text();
    await twin.close();
    const post = await agent.fetch(new URL('/login', server.url), {
      method: 'POST',
      form: { csrf: csrfOf(twinForm), username: 'dave', password: 'dave-password-123' },
    });
    assert.equal(post.status, 403);
    assert.equal(agent.cookies.has('gatehouse_session'), false);
  });

  test('passwords off with no provider is refused at start', async () => {
    await assert.rejects(startInProcess({ passwordSignIn: false }), /passwordSignIn/);
  });
});

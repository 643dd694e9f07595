import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Agent, approvedScopeOf, authorizeUrl, csrfOf, pkce } from './helpers/agent.ts';
import { type InProcessServer, startInProcess } from './helpers/in-process.ts';
import { startUpstreamIdp, type UpstreamIdp } from './helpers/upstream-idp.ts';

/**
 * Connecting an upstream API account (issue #12) end to end: a signed-in Gatehouse user opens
 * `/connect/github`, the upstream's real authorization server (oidc-provider on loopback) approves,
 * and its callback stores the connection, which the vault then hands out. Only loopback traffic.
 */
let upstream: UpstreamIdp;
let gh: InProcessServer;
const PASSWORD = 'a sufficiently long password';
const REDIRECT = 'http://127.0.0.1:5999/callback';

/** Follows redirects from `start` through the upstream until the browser is back on Gatehouse at `path`. */
async function followUntil(agent: Agent, start: URL, path: string): Promise<Response> {
  let url = start;
  for (let hops = 0; hops < 12; hops++) {
    const response = await agent.fetch(url);
    if (url.origin === new URL(gh.issuer).origin && url.pathname === path) return response;
    const location = response.headers.get('location');
    assert.ok(location, `no redirect from ${url.href} (${response.status}): ${await response.text()}`);
    url = new URL(location, url);
  }
  throw new Error(`never reached ${path}`);
}

async function signInAs(agent: Agent, username: string): Promise<void> {
  const login = await agent.fetch(`${gh.issuer}/login`);
  const signedIn = await agent.fetch(`${gh.issuer}/login`, {
    method: 'POST',
    headers: { origin: gh.issuer },
    form: { csrf: csrfOf(await login.text()), username, password: PASSWORD },
  });
  assert.equal(signedIn.status, 303);
}

before(async () => {
  upstream = await startUpstreamIdp();
  gh = await startInProcess((url) => ({
    resources: [`${url}/mcp`, `${url}/mcp/github`],
    // The GitHub MCP server calls GitHub as the user; the demo server needs no upstream account.
    connectionsOf: (resource) => (resource === `${url}/mcp/github` ? ['github'] : []),
    connections: new Map([
      [
        'github',
        {
          issuer: upstream.issuer,
          authorizationEndpoint: `${upstream.issuer}/auth`,
          tokenEndpoint: `${upstream.issuer}/token`,
          clientId: upstream.clientId,
          clientSecret: upstream.clientSecret,
          scopes: ['openid'],
        },
      ],
    ]),
  }));
  await gh.addClient({ client_id: 'app', redirect_uris: [REDIRECT], token_endpoint_auth_method: 'none' });
  upstream.register([`${gh.issuer}/connect/github/callback`]);
  upstream.accounts.set('ada-at-github', { preferred_username: 'ada' });
});
after(async () => {
  await gh?.close();
  await upstream?.close();
});

test('RFC 6749 §4.1, RFC 7636: a signed-in user connects an upstream account through its real authorization server; the vault then hands out the token, stored only encrypted', async () => {
  const userId = await gh.addUser('ada', PASSWORD);
  const agent = new Agent();
  const login = await agent.fetch(`${gh.issuer}/login`);
  const signedIn = await agent.fetch(`${gh.issuer}/login`, {
    method: 'POST',
    headers: { origin: gh.issuer },
    form: { csrf: csrfOf(await login.text()), username: 'ada', password: PASSWORD },
  });
  assert.equal(signedIn.status, 303);

  const apps = await (await agent.fetch(`${gh.issuer}/account/apps`)).text();
  assert.match(apps, /href="\/connect\/github">Connect github</, 'the account page offers the connection');
  upstream.signInAs = 'ada-at-github';
  assert.equal(await gh.as.vault.accessToken(userId, 'github').then((a) => 'missing' in a), true);
  let url = new URL(`${gh.issuer}/connect/github`);
  let answer: Response | undefined;
  for (let hops = 0; hops < 12 && !answer; hops++) {
    const response = await agent.fetch(url);
    if (url.origin === new URL(gh.issuer).origin && url.pathname === '/connect/github/callback') {
      answer = response;
      break;
    }
    const location = response.headers.get('location');
    assert.ok(location, `no redirect from ${url.href} (${response.status}): ${await response.text()}`);
    url = new URL(location, url);
  }
  assert.ok(answer, 'reached the callback');
  assert.ok([302, 303].includes(answer.status), `callback answered ${answer.status}`);

  const row = await gh.store.getConnection(userId, 'github');
  assert.equal(row?.state, 'active');
  const handed = await gh.as.vault.accessToken(userId, 'github');
  assert.ok('token' in handed, JSON.stringify(Object.keys(handed)));
  assert.ok(!JSON.stringify(row).includes(handed.token), 'the store holds the token only encrypted');
});

test('issue #12: the consent page of a server that uses an upstream account offers to connect it, and the connect returns to the consent page, now showing it connected', async () => {
  const userId = await gh.addUser('grace', PASSWORD);
  upstream.accounts.set('grace-at-github', { preferred_username: 'grace' });
  upstream.signInAs = 'grace-at-github';
  const agent = new Agent();
  await signInAs(agent, 'grace');
  const consentFor = async (resource: string) => {
    const started = await agent.fetch(
      authorizeUrl(gh.issuer, {
        response_type: 'code',
        client_id: 'app',
        redirect_uri: REDIRECT,
        scope: 'tools:list',
        resource,
        state: 's',
        code_challenge: pkce().challenge,
        code_challenge_method: 'S256',
      }),
    );
    const interaction = started.headers.get('location') ?? '';
    assert.ok(interaction.startsWith('/interaction/'), `authorize answered ${started.status}`);
    return { interaction, page: await (await agent.fetch(`${gh.issuer}${interaction}`)).text() };
  };

  const demo = await consentFor(`${gh.issuer}/mcp`);
  assert.doesNotMatch(
    demo.page,
    /data-connection=/,
    'a server using no upstream account shows no accounts section',
  );

  const { interaction, page } = await consentFor(`${gh.issuer}/mcp/github`);
  const link = new RegExp(
    `href="(/connect/github\\?interaction=${interaction.slice('/interaction/'.length)})"`,
  ).exec(page);
  assert.ok(link?.[1], 'the consent page links to the connect page, returning to itself');
  assert.match(page, /data-state="missing"/);

  const back = await followUntil(agent, new URL(link[1], gh.issuer), '/connect/github/callback');
  assert.equal(back.status, 303);
  assert.equal(back.headers.get('location'), interaction, 'the callback returns to the consent page');
  assert.ok('token' in (await gh.as.vault.accessToken(userId, 'github')));

  const after = await (await agent.fetch(`${gh.issuer}${interaction}`)).text();
  assert.match(after, /data-connection="github" data-state="active"/);
  assert.doesNotMatch(after, /href="\/connect\/github/, 'nothing left to connect');
  const approved = await agent.fetch(`${gh.issuer}${interaction}/consent`, {
    method: 'POST',
    headers: { origin: gh.issuer },
    form: { csrf: csrfOf(after), decision: 'approve', scope: approvedScopeOf(after) },
  });
  assert.equal(approved.status, 302);
  assert.ok(
    new URL(approved.headers.get('location') ?? '').searchParams.get('code'),
    'approval still issues the code',
  );
});

test('issue #12: a connect started with anything but an interaction id returns to connected apps, never to a URL it was given', async () => {
  await gh.addUser('hopper', PASSWORD);
  upstream.accounts.set('hopper-at-github', { preferred_username: 'hopper' });
  upstream.signInAs = 'hopper-at-github';
  const agent = new Agent();
  await signInAs(agent, 'hopper');
  const start = new URL(`${gh.issuer}/connect/github`);
  start.searchParams.set('interaction', 'https://attacker.example/');
  const back = await followUntil(agent, start, '/connect/github/callback');
  assert.equal(back.headers.get('location'), '/account/apps?connected');
});

test('issue #12: two connects started in one browser before either returns (two tabs) both complete: each flow has its own cookie', async () => {
  await gh.addUser('ivy', PASSWORD);
  upstream.accounts.set('ivy-at-github', { preferred_username: 'ivy' });
  upstream.signInAs = 'ivy-at-github';
  const agent = new Agent();
  await signInAs(agent, 'ivy');
  const started = [];
  for (let i = 0; i < 2; i++) {
    const response = await agent.fetch(`${gh.issuer}/connect/github`);
    const location = response.headers.get('location');
    assert.ok(location, `connect answered ${response.status}`);
    started.push(new URL(location));
  }
  for (const upstreamUrl of started) {
    const back = await followUntil(agent, upstreamUrl, '/connect/github/callback');
    assert.equal(back.status, 303, await back.text());
    assert.equal(back.headers.get('location'), '/account/apps?connected');
  }
});

test('RFC 6749 §4.1.2.1, issue #12: a connect the upstream refuses says so, and its flow cookie is cleared all the same', async () => {
  await gh.addUser('joan', PASSWORD);
  const agent = new Agent();
  await signInAs(agent, 'joan');
  const started = await agent.fetch(`${gh.issuer}/connect/github`);
  const state = new URL(started.headers.get('location') ?? '').searchParams.get('state');
  assert.ok(state);
  const cookie = /^([^=]+)=/.exec(started.headers.get('set-cookie') ?? '')?.[1];
  assert.ok(cookie?.startsWith('gatehouse_connect_'), String(cookie));
  const refused = await agent.fetch(
    `${gh.issuer}/connect/github/callback?error=access_denied&state=${state}`,
  );
  assert.equal(refused.status, 400);
  assert.match(await refused.text(), /Your github account was not connected: github answered access_denied/);
  assert.match(refused.headers.get('set-cookie') ?? '', new RegExp(`^${cookie}=;.*Max-Age=0`, 'i'));
});

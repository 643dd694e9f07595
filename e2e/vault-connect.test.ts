import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Agent, csrfOf } from './helpers/agent.ts';
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

before(async () => {
  upstream = await startUpstreamIdp();
  gh = await startInProcess({
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
  });
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

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { authorizeUrl, pkce } from './helpers/agent.ts';
import { browserSkipReason, launchChromium, screenshot } from './helpers/browser.ts';
import { type InProcessServer, startInProcess } from './helpers/in-process.ts';
import { startLoopbackServer } from './helpers/loopback.ts';
import { startUpstreamIdp, type UpstreamIdp } from './helpers/upstream-idp.ts';

/**
 * Signing in with an upstream identity provider in a real browser (headless Chromium): Gatehouse's
 * sign-in page, the provider (oidc-provider on loopback, approving silently), back to Gatehouse's
 * own consent for the MCP client, and the code at the client's redirect URI.
 */
const skip = browserSkipReason();
let idp: UpstreamIdp;
/** The upstream API's own authorization server (GitHub's, in production), separate from the IdP. */
let api: UpstreamIdp;
let gh: InProcessServer;
let app: Awaited<ReturnType<typeof startLoopbackServer>>;
let browser: Browser;

before(async () => {
  if (skip) return;
  idp = await startUpstreamIdp();
  api = await startUpstreamIdp();
  gh = await startInProcess({
    passwordSignIn: false,
    identityProviders: [
      {
        id: 'keycloak',
        name: 'Keycloak',
        issuer: idp.issuer,
        clientId: idp.clientId,
        clientSecret: idp.clientSecret,
        dangerouslyAllowInsecureHttp: true,
      },
    ],
    // A second oidc-provider stands in for an upstream API's authorization server (the vault),
    // which the MCP server calls as the user: its consent page offers to connect it.
    connectionsOf: () => ['github'],
    connections: new Map([
      [
        'github',
        {
          issuer: api.issuer,
          authorizationEndpoint: `${api.issuer}/auth`,
          tokenEndpoint: `${api.issuer}/token`,
          clientId: api.clientId,
          clientSecret: api.clientSecret,
          scopes: ['openid'],
        },
      ],
    ]),
  });
  idp.register([`${gh.issuer}/signin/keycloak/callback`]);
  api.register([`${gh.issuer}/connect/github/callback`]);
  api.accounts.set('erin-at-the-api', { preferred_username: 'erin' });
  api.signInAs = 'erin-at-the-api';
  idp.accounts.set('9b2c-erin', {
    email: 'erin@example.com',
    email_verified: true,
    preferred_username: 'erin',
  });
  app = await startLoopbackServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' }).end('back at the app');
  });
  await gh.addClient({
    client_id: 'research',
    client_name: 'Research Assistant',
    redirect_uris: [`${app.url}/callback`],
  });
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
  await app?.close();
  await gh?.close();
  await idp?.close();
  await api?.close();
});

test('MCP authorization (confused deputy): after a silent upstream sign-in, Gatehouse still asks consent for the client; the user connects the upstream API account the server uses from the consent page (its own authorization server, not the IdP), then approving returns a code; removed and connected again from connected apps, it holds a new token', {
  skip,
}, async () => {
  idp.signInAs = '9b2c-erin';
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(
    authorizeUrl(gh.issuer, {
      response_type: 'code',
      client_id: 'research',
      redirect_uri: `${app.url}/callback`,
      scope: 'tools:list',
      state: 'st-1',
      code_challenge: pkce().challenge,
      code_challenge_method: 'S256',
    }).href,
  );
  assert.equal(await page.locator('input[name="password"]').count(), 0, 'passwords are switched off');
  await screenshot(page, 'federation-sign-in');
  await page.click('a:text-is("Continue with Keycloak")');
  await page.waitForSelector('button[value="approve"]', { timeout: 20_000 });
  assert.match(await page.content(), /Research Assistant/);
  await screenshot(page, 'federation-consent');

  // Issue #12, the connect step during consent: through the upstream API's authorization server
  // and back to the same consent page, now showing the account connected.
  const consentUrl = page.url();
  await page.click('a:text-is("Connect your github account")');
  await page.waitForSelector('li[data-connection="github"][data-state="active"]', { timeout: 20_000 });
  assert.equal(page.url(), consentUrl, 'back on the consent page');
  await screenshot(page, 'consent-connected');
  const reached = page.waitForURL((url) => url.href.startsWith(`${app.url}/callback`), { timeout: 20_000 });
  await page.click('button:text-is("Approve")');
  await reached;
  const back = new URL(page.url());
  assert.ok(back.searchParams.get('code'));
  assert.equal(back.searchParams.get('state'), 'st-1');
  const identity = await gh.store.getIdentity('keycloak', '9b2c-erin');
  assert.equal((await gh.store.getUser(identity?.user_id ?? ''))?.username, 'erin');

  // The connected-apps page lists the connection active, and no page shows the token.
  await page.goto(`${gh.issuer}/account/apps`);
  await page.waitForSelector('li.connection[data-provider="github"] .state.active', { timeout: 20_000 });
  await screenshot(page, 'vault-connected');
  const userId = identity?.user_id ?? '';
  const first = await gh.as.vault.accessToken(userId, 'github');
  assert.ok('token' in first);
  assert.ok(!(await page.content()).includes(first.token), 'the page never shows the token');

  // Remove, then connect again from the connected-apps page: a new upstream token.
  await page.click('li.connection[data-provider="github"] button:text-is("Remove")');
  await page.waitForSelector('a:text-is("Connect github")', { timeout: 20_000 });
  assert.equal(await gh.store.getConnection(userId, 'github'), undefined);
  await page.click('a:text-is("Connect github")');
  await page.waitForSelector('li.connection[data-provider="github"] .state.active', { timeout: 20_000 });
  const second = await gh.as.vault.accessToken(userId, 'github');
  assert.ok('token' in second);
  assert.notEqual(second.token, first.token);
  assert.ok(!(await page.content()).includes(second.token));
  await context.close();
});

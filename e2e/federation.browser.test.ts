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
let gh: InProcessServer;
let app: Awaited<ReturnType<typeof startLoopbackServer>>;
let browser: Browser;

before(async () => {
  if (skip) return;
  idp = await startUpstreamIdp();
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
    // The same provider also stands in for an upstream API's authorization server (the vault),
    // which the MCP server calls as the user: its consent page offers to connect it.
    connectionsOf: () => ['github'],
    connections: new Map([
      [
        'github',
        {
          issuer: idp.issuer,
          authorizationEndpoint: `${idp.issuer}/auth`,
          tokenEndpoint: `${idp.issuer}/token`,
          clientId: idp.clientId,
          clientSecret: idp.clientSecret,
          scopes: ['openid'],
        },
      ],
    ]),
  });
  idp.register([`${gh.issuer}/signin/keycloak/callback`, `${gh.issuer}/connect/github/callback`]);
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
});

test('MCP authorization (confused deputy): after a silent upstream sign-in, Gatehouse still asks consent for the client; the user connects the upstream API account the server uses from the consent page, then approving returns a code', {
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
  const row = await gh.store.getConnection(identity?.user_id ?? '', 'github');
  assert.equal(row?.state, 'active');
  const handed = await gh.as.vault.accessToken(identity?.user_id ?? '', 'github');
  assert.ok('token' in handed);
  assert.ok(!(await page.content()).includes(handed.token), 'the page never shows the token');
  await context.close();
});

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { authorizeUrl, pkce } from './helpers/agent.ts';
import { browserSkipReason, launchChromium, screenshot, signInAndConsent } from './helpers/browser.ts';
import { addClient, addUser, type RunningGatehouse, serve } from './helpers/gatehouse-cli.ts';
import { startLoopbackServer } from './helpers/loopback.ts';
import { tempDir } from './helpers/temp.ts';

/**
 * The sign-in and consent pages in a real browser (headless Chromium) against `gatehouse serve`,
 * with the user and client created by the CLI, as an administrator would.
 */
const skip = browserSkipReason();
const USER = { username: 'ivan', password: 'ivan-password-123' };

let data: Awaited<ReturnType<typeof tempDir>>;
let server: RunningGatehouse;
let callback: Awaited<ReturnType<typeof startLoopbackServer>>;
let browser: Browser;
let clientId: string;

before(async () => {
  if (skip) return;
  data = await tempDir();
  callback = await startLoopbackServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' }).end('back at the app');
  });
  await addUser(data.dir, USER.username, USER.password);
  ({ client_id: clientId } = await addClient(data.dir, {
    name: 'Research Assistant',
    redirectUris: [`${callback.url}/callback`],
  }));
  server = await serve(data.dir);
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
  await server?.stop();
  await callback?.close();
  await data?.remove();
});

const start = (state: string, scope: string) =>
  authorizeUrl(server.issuer, {
    response_type: 'code',
    client_id: clientId,
    redirect_uri: `${callback.url}/callback`,
    scope,
    state,
    code_challenge: pkce().challenge,
    code_challenge_method: 'S256',
  }).href;

test('MCP security best practices: the consent page shows the app, each scope as a sentence and the redirect host; approving returns code, state and iss', {
  skip,
}, async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  let shown = false;
  const final = await signInAndConsent(
    page,
    start('browser-state', 'tools:execute:filesystem resources:read'),
    {
      ...USER,
      redirectPrefix: `${callback.url}/callback`,
      onConsent: async (p) => {
        shown = true;
        assert.equal(await p.locator('h1 .client-name').textContent(), 'Research Assistant');
        assert.deepEqual(await p.locator('fieldset.scopes li .sentence').allTextContents(), [
          'Run filesystem tools: read and write your files',
          'Read resources',
        ]);
        assert.equal(await p.locator('.redirect-host').textContent(), new URL(callback.url).host);
        assert.match((await p.locator('.identity').textContent()) ?? '', /Registered by the administrator/);
        const path = await screenshot(p, 'consent');
        assert.ok(path.endsWith('consent.png'));
      },
    },
  );
  assert.equal(shown, true);
  const params = new URL(final).searchParams;
  assert.ok(params.get('code'));
  assert.equal(params.get('state'), 'browser-state');
  assert.equal(params.get('iss'), server.issuer);

  // The browser holds the session and CSRF cookies: HttpOnly, SameSite=Lax, not Secure on http.
  const cookies = await context.cookies(server.issuer);
  assert.deepEqual(cookies.map((c) => c.name).sort(), ['gatehouse_csrf', 'gatehouse_session']);
  for (const cookie of cookies) {
    assert.equal(cookie.httpOnly, true);
    assert.equal(cookie.sameSite, 'Lax');
    assert.equal(cookie.secure, false);
  }

  // Remembered consent: the same request again goes straight back to the app.
  const again = await signInAndConsent(page, start('again', 'resources:read'), {
    ...USER,
    redirectPrefix: `${callback.url}/callback`,
    onConsent: async () => assert.fail('consent was already given for these scopes'),
  });
  assert.equal(new URL(again).searchParams.get('state'), 'again');
  await context.close();
});

test('RFC 6749 §4.1.2.1: denying in the browser returns access_denied with state and iss', {
  skip,
}, async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const final = await signInAndConsent(page, start('deny-state', 'tools:list'), {
    ...USER,
    redirectPrefix: `${callback.url}/callback`,
    decision: 'Deny',
  });
  const params = new URL(final).searchParams;
  assert.equal(params.get('error'), 'access_denied');
  assert.equal(params.get('state'), 'deny-state');
  assert.equal(params.get('iss'), server.issuer);
  assert.equal(params.get('code'), null);
  await context.close();
});

test('RFC 9700 §4.16: the consent page cannot be framed by another site', { skip }, async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const framer = await startLoopbackServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end(`<iframe id="f" src="${start('framed', 'tools:list')}"></iframe>`);
  });
  try {
    let blocked = false;
    page.on('console', (m) => {
      if (/frame-ancestors|Refused to (display|frame)/i.test(m.text())) blocked = true;
    });
    await page.goto(framer.url);
    const frame = page.frames().find((f) => f !== page.mainFrame());
    const body = frame ? await frame.evaluate(() => document.body?.textContent ?? '').catch(() => '') : '';
    assert.doesNotMatch(body, /Sign in|Username/, 'the sign-in form must not render inside a frame');
    assert.ok(blocked || body === '', 'the browser refused to frame the page');
  } finally {
    await framer.close();
    await context.close();
  }
});

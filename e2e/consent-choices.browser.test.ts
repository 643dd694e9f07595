import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { authorizeUrl, pkce } from './helpers/agent.ts';
import { browserSkipReason, launchChromium } from './helpers/browser.ts';
import { addClient, addUser, type RunningGatehouse, serve } from './helpers/gatehouse-cli.ts';
import { startLoopbackServer } from './helpers/loopback.ts';
import { tempDir } from './helpers/temp.ts';

/**
 * Consent with choices in headless Chromium against `gatehouse serve` (the demo's tools named from
 * its manifest): untick, approve, and the token lacks the scope; step-up offers only what is new;
 * keyboard only; readable at phone width.
 */
const skip = browserSkipReason();
const USER = { username: 'judy', password: 'judy-password-123' };

let data: Awaited<ReturnType<typeof tempDir>>;
let server: RunningGatehouse;
let callback: Awaited<ReturnType<typeof startLoopbackServer>>;
let browser: Browser;
let clientId: string;
let shots: string;

before(async () => {
  if (skip) return;
  data = await tempDir();
  shots = await mkdtemp(join(tmpdir(), 'gatehouse-consent-shots-'));
  callback = await startLoopbackServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' }).end('back at the app');
  });
  await addUser(data.dir, USER.username, USER.password);
  ({ client_id: clientId } = await addClient(data.dir, {
    name: 'Gatehouse CLI',
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

/** Authorizes in `page` for `scope`, lets `onConsent` act on the page, and redeems the code. */
async function authorizeIn(page: Page, scope: string, onConsent?: (page: Page) => Promise<unknown>) {
  const { verifier, challenge } = pkce();
  const redirectUri = `${callback.url}/callback`;
  const url = authorizeUrl(server.issuer, {
    response_type: 'code',
    client_id: clientId,
    redirect_uri: redirectUri,
    scope,
    state: 'st',
    code_challenge: challenge,
    code_challenge_method: 'S256',
  }).href;
  // As signInAndConsent, except that `onConsent` may answer the page itself (by keyboard).
  const reached = page.waitForURL((u) => u.href.startsWith(redirectUri), { timeout: 20_000 });
  await page.goto(url);
  if (await page.locator('input[name="password"]').count()) {
    await page.fill('input[name="username"]', USER.username);
    await page.fill('input[name="password"]', USER.password);
    await Promise.all([page.waitForLoadState('load'), page.click('button[type="submit"]')]);
  }
  if (!page.url().startsWith(redirectUri)) {
    await page.waitForSelector('button[value="approve"]', { timeout: 10_000 });
    const answered = (await onConsent?.(page)) === 'answered';
    if (!answered) await page.click('button[value="approve"]');
  }
  await reached;
  const final = page.url();
  const code = new URL(final).searchParams.get('code');
  assert.ok(code, `a code in ${final}`);
  const response = await fetch(`${server.issuer}/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code,
      code_verifier: verifier,
      redirect_uri: redirectUri,
      client_id: clientId,
    }),
  });
  assert.equal(response.status, 200);
  const tokens = (await response.json()) as { scope: string };
  return tokens.scope.split(' ').sort();
}

const box = (page: Page, scope: string) => page.locator(`input[type="checkbox"][value="${scope}"]`);

test('RFC 6749 §3.3: a scope unticked on the consent page is not granted; step-up then offers only it', {
  skip,
}, async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const granted = await authorizeIn(
    page,
    'tools:list tools:execute:filesystem tools:execute:database',
    async (p) => {
      assert.equal(await p.locator('fieldset.scopes legend').textContent(), 'This application wants to:');
      // The label names the tools the scope unlocks (from the demo's manifest), and is bound to its box.
      const label = p.getByLabel(/Run database tools/);
      assert.equal(await label.getAttribute('value'), 'tools:execute:database');
      assert.match(
        (await p.locator('li[data-scope="tools:execute:database"] .tools').textContent()) ?? '',
        /query and execute/,
      );
      await label.uncheck();
    },
  );
  assert.deepEqual(granted, ['tools:execute:filesystem', 'tools:list']);

  let offered: string[] = [];
  const wider = await authorizeIn(
    page,
    'tools:list tools:execute:filesystem tools:execute:database',
    async (p) => {
      assert.match((await p.locator('.already h2').textContent()) ?? '', /^Gatehouse CLI can already:$/);
      assert.deepEqual(await p.locator('.already li').allTextContents(), [
        'See which tools are available',
        'Run filesystem tools: read and write your files',
      ]);
      assert.equal(await p.locator('fieldset.scopes legend').textContent(), 'It now also asks to:');
      offered = await p
        .locator('input[type="checkbox"]')
        .evaluateAll((els) => els.map((e) => (e as HTMLInputElement).value));
    },
  );
  assert.deepEqual(offered, ['tools:execute:database'], 'only the new scope is a choice');
  assert.deepEqual(wider, ['tools:execute:database', 'tools:execute:filesystem', 'tools:list']);
  await context.close();
});

test('WCAG 2.1.1, 2.4.7: consent by keyboard alone (Tab to a box, Space to untick, Tab to Approve, Enter), with a visible focus', {
  skip,
}, async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const granted = await authorizeIn(page, 'resources:read prompts:list', async (p) => {
    const focused = () => p.evaluate(() => (document.activeElement as HTMLInputElement | null)?.value ?? '');
    for (let i = 0; i < 10 && (await focused()) !== 'prompts:list'; i++) await p.keyboard.press('Tab');
    assert.equal(await focused(), 'prompts:list');
    const outline = await p.evaluate(() => getComputedStyle(document.activeElement as Element).outlineStyle);
    assert.notEqual(outline, 'none', 'the focused box shows where focus is');
    await p.keyboard.press('Space');
    assert.equal(await box(p, 'prompts:list').isChecked(), false);
    for (let i = 0; i < 10 && (await focused()) !== 'approve'; i++) await p.keyboard.press('Tab');
    assert.equal(await focused(), 'approve');
    await p.keyboard.press('Enter');
    return 'answered';
  });
  assert.deepEqual(granted, ['resources:read']);
  await context.close();
});

test('the consent page is readable at phone width (390 px) and on a desktop (1280 px): no horizontal scrolling', {
  skip,
}, async () => {
  for (const width of [390, 1280]) {
    const context = await browser.newContext({ viewport: { width, height: 900 } });
    const page = await context.newPage();
    const everything =
      'tools:list tools:execute tools:execute:filesystem tools:execute:database resources:read resources:subscribe prompts:list prompts:execute offline_access';
    await authorizeIn(page, everything, async (p) => {
      const overflow = await p.evaluate(() => ({
        scrollWidth: document.scrollingElement?.scrollWidth ?? 0,
        innerWidth: window.innerWidth,
      }));
      assert.ok(overflow.scrollWidth <= overflow.innerWidth, `${width} px: ${JSON.stringify(overflow)}`);
      await p.screenshot({ path: join(shots, `consent-${width}.png`), fullPage: true });
      await p.getByLabel(/Be notified when resources change/).uncheck();
    });
    await context.close();
  }
});

import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import type { Server } from 'node:http';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { parseBearerChallenge } from '@gatehouse/core';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { gatewayScene } from './gateway/scene.ts';
import { EVERYTHING_SERVER } from './gateway/upstreams.ts';
import { authorize, tokenRequest } from './helpers/agent.ts';
import { browserSkipReason, launchChromium } from './helpers/browser.ts';
import { addClient, gatehouse } from './helpers/gatehouse-cli.ts';
import { closeServer, listen } from './helpers/loopback.ts';

/**
 * The admin console (issue #13) in a real browser (Debian's Chromium, headless) against
 * `gatehouse serve --config` as a child process (real HTTP on 127.0.0.1, real SQLite) with a real
 * MCP server behind the gateway: an admin revokes a grant and blocks a client; a non-admin is
 * refused everywhere; a form posted from another origin is refused; the overview charts the calls
 * the test made. Every page is photographed at 1280 px and at 390 px (under the OS temp folder,
 * never committed) and must not scroll sideways.
 */
const skip = browserSkipReason();
const SERVER = 'everything';
const REDIRECT_URI = 'http://127.0.0.1:9/callback';
const SHOTS = join(tmpdir(), 'gatehouse-admin-screenshots');
const SECTIONS = ['', '/users', '/clients', '/grants', '/connections', '/keys', '/audit'];

const scene = gatewayScene({
  users: ['root', 'alice'],
  skip,
  config: () => ({
    mcpServers: {
      [SERVER]: { command: process.execPath, args: [EVERYTHING_SERVER, 'stdio'], title: 'Everything' },
    },
  }),
});

let browser: Browser | undefined;
after(async () => {
  await browser?.close();
});

/** Once the scene is up: the admin role for root (`gatehouse users promote root`), and the browser. */
let ready: Promise<void> | undefined;
function setUp(): Promise<void> {
  ready ??= (async () => {
    const promoted = await gatehouse(['users', 'promote', 'root', '--data', scene.dataDir]);
    assert.equal(promoted.code, 0, promoted.stderr);
    browser = await launchChromium();
  })();
  return ready;
}

/** A browser context signed in at /login as `username`; only loopback is reachable. */
async function signedIn(username: string): Promise<{ context: BrowserContext; page: Page }> {
  await setUp();
  const context = await (browser as Browser).newContext();
  const page = await context.newPage();
  await page.route(/^(?!http:\/\/127\.0\.0\.1:)/, (route) => route.abort());
  await page.goto(`${scene.issuer}/admin`);
  assert.equal(new URL(page.url()).pathname, '/login', 'signed out, /admin asks to sign in');
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(`${username}-password-123`);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForLoadState('load');
  return { context, page };
}

/** A JSON-RPC POST to the gateway with a bearer token. */
function mcpPost(token: string, method: string, params: Record<string, unknown> = {}): Promise<Response> {
  return fetch(scene.url(SERVER), {
    method: 'POST',
    headers: {
      authorization: `Bearer ${token}`,
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      'mcp-protocol-version': '2025-06-18',
    },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
  });
}

/** A public client registered by RFC 7591 dynamic registration (the kind an admin may block). */
async function register(clientName: string): Promise<{ client_id: string }> {
  const response = await fetch(`${scene.issuer}/oauth/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      client_name: clientName,
      redirect_uris: [REDIRECT_URI],
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code', 'refresh_token'],
    }),
  });
  assert.equal(response.status, 201);
  return (await response.json()) as { client_id: string };
}

/** Tokens for alice through sign-in, consent and PKCE, with a client of their own (so it can be blocked). */
async function aliceTokens(clientName: string, scope: string, how: 'cli' | 'dcr' = 'cli') {
  const { client_id } =
    how === 'cli'
      ? await addClient(scene.dataDir, { name: clientName, redirectUris: [REDIRECT_URI] })
      : await register(clientName);
  const alice = scene.users.get('alice') as { username: string; password: string };
  const resource = scene.url(SERVER);
  const flow = await authorize({
    issuer: scene.issuer,
    clientId: client_id,
    redirectUri: REDIRECT_URI,
    username: alice.username,
    password: alice.password,
    scope,
    resource,
  });
  const token = await tokenRequest(scene.issuer, {
    grant_type: 'authorization_code',
    code: flow.params.code as string,
    redirect_uri: REDIRECT_URI,
    client_id,
    code_verifier: flow.verifier,
    resource,
  });
  assert.equal(token.status, 200, JSON.stringify(token.body));
  return {
    client_id,
    access: token.body.access_token as string,
    refresh: token.body.refresh_token as string,
  };
}

test('admin console: the overview charts the gateway calls a test just made, allowed and refused (403 insufficient_scope), with a title and the numbers beside each chart', {
  skip,
}, async () => {
  const mcp = (await scene.connect('alice', SERVER)).mcp;
  try {
    for (let i = 0; i < 3; i++) await mcp.callTool({ name: 'echo', arguments: { message: `hello ${i}` } });
  } finally {
    await mcp.close();
  }
  // A token that may list tools but run none: its tools/call is refused and audited as denied.
  const { access } = await aliceTokens('Overview refusals app', 'tools:list');
  const refused = await mcpPost(access, 'tools/call', { name: 'get-sum', arguments: { a: 1, b: 2 } });
  assert.equal(refused.status, 403);

  const { context, page } = await signedIn('root');
  try {
    await page.goto(`${scene.issuer}/admin?days=1`);
    assert.match((await page.locator('h1').textContent()) ?? '', /Overview: last 24 hours/);
    const perTool = page.locator('section[aria-labelledby="calls-per-tool-heading"]');
    assert.match((await perTool.locator('svg title').first().textContent()) ?? '', /Calls per tool/);
    const toolRows = await perTool.locator('tbody tr').allInnerTexts();
    assert.ok(
      toolRows.some((row) => /everything · echo\s+3$/.test(row)),
      `the three echo calls are in the table: ${toolRows.join(' | ')}`,
    );
    assert.match(
      (await page.locator('#calls-per-server-summary').textContent()) ?? '',
      /everything 4\b/,
      'four calls to the server: three allowed, one refused',
    );
    assert.match(
      (await page.locator('#refusal-reasons-summary').textContent()) ?? '',
      /403 insufficient scope: everything · get-sum 1/,
    );
    assert.match((await page.locator('#calls-desc').textContent()) ?? '', /^4 calls in this period/);
    assert.match((await page.locator('#tokens-summary').textContent()) ?? '', /\d+ tokens? in this period/);
  } finally {
    await context.close();
  }
});

test('admin console: an admin revokes a grant and the guard refuses its token at the next call (RFC 6750 §3.1 invalid_token)', {
  skip,
}, async () => {
  const { access, client_id } = await aliceTokens('Revoked by admin app', `tools:execute:${SERVER}`);
  const before = await mcpPost(access, 'tools/list');
  assert.notEqual(before.status, 401, 'the token works before the revocation');

  const { context, page } = await signedIn('root');
  try {
    await page.goto(`${scene.issuer}/admin/grants?user=alice`);
    const row = page.locator('tr', { hasText: client_id });
    await row.getByRole('link', { name: 'Revoke' }).click();
    await page.getByRole('button', { name: 'Confirm' }).click();
    await page.waitForLoadState('load');
    assert.equal(
      await page.locator('tr', { hasText: client_id }).getByRole('link', { name: 'Revoke' }).count(),
      0,
    );
  } finally {
    await context.close();
  }
  const afterRevoke = await mcpPost(access, 'tools/list');
  assert.equal(afterRevoke.status, 401);
  assert.equal(
    parseBearerChallenge(afterRevoke.headers.get('www-authenticate') ?? '')?.error,
    'invalid_token',
  );
});

test('admin console: an admin blocks a client and its next token request fails (RFC 6749 §5.2 invalid_client)', {
  skip,
}, async () => {
  const { client_id, refresh } = await aliceTokens('Blocked by admin app', `tools:execute:${SERVER}`, 'dcr');
  assert.ok(refresh, 'a refresh token to try after the block');
  const { context, page } = await signedIn('root');
  try {
    await page.goto(`${scene.issuer}/admin/clients`);
    const row = page.locator('tr', { hasText: client_id });
    await row.getByRole('link', { name: /^Block/ }).click();
    await page.getByRole('button', { name: 'Confirm' }).click();
    await page.waitForLoadState('load');
  } finally {
    await context.close();
  }
  const refused = await tokenRequest(scene.issuer, {
    grant_type: 'refresh_token',
    refresh_token: refresh,
    client_id,
  });
  assert.equal(refused.status, 401);
  assert.equal(refused.body.error, 'invalid_client');
});

/**
 * Every admin page, and every action the admin's pages offer: the sections, their action links
 * (confirmation pages) and the forms those post, as collected from the admin's own browser.
 */
async function adminSurface(
  page: Page,
): Promise<{ gets: Set<string>; posts: Map<string, Record<string, string>> }> {
  const gets = new Set(SECTIONS.map((s) => `/admin${s}`));
  const posts = new Map<string, Record<string, string>>();
  const collectForms = async () => {
    for (const form of await page.locator('form[method="post"]').all()) {
      const action = (await form.getAttribute('action')) ?? '';
      if (!action.startsWith('/admin') || posts.has(action)) continue;
      const fields: Record<string, string> = {};
      for (const input of await form.locator('input[name]').all())
        fields[(await input.getAttribute('name')) as string] = (await input.getAttribute('value')) ?? '';
      posts.set(action, fields);
    }
  };
  for (const section of SECTIONS) {
    await page.goto(`${scene.issuer}/admin${section}`);
    await collectForms();
    for (const link of await page.locator('main a[href^="/admin/"][href*="?"]').all()) {
      const href = (await link.getAttribute('href')) as string;
      if (!/\/(revoke|narrow|remove|delete|block|unblock|disable|enable|promote|demote|rotate)/.test(href))
        continue;
      gets.add(href);
    }
  }
  for (const href of [...gets].filter((h) => h.includes('?'))) {
    await page.goto(`${scene.issuer}${href}`);
    await collectForms();
  }
  return { gets, posts };
}

test('admin console: a signed-in non-admin gets 403 on every admin page and every action, and nothing changes', {
  skip,
}, async () => {
  const target = await aliceTokens('Non-admin target app', `tools:execute:${SERVER}`);
  const admin = await signedIn('root');
  const surface = await adminSurface(admin.page);
  await admin.context.close();
  assert.ok(
    surface.posts.size >= 3,
    `the admin's pages offer actions: ${[...surface.posts.keys()].join(', ')}`,
  );

  const { context, page } = await signedIn('alice');
  try {
    for (const path of surface.gets) {
      const response = await page.goto(`${scene.issuer}${path}`);
      assert.equal(response?.status(), 403, `GET ${path}`);
    }
    for (const [action, fields] of surface.posts) {
      const response = await page.request.post(`${scene.issuer}${action}`, {
        form: { ...fields, confirm: 'yes' },
        headers: { origin: scene.issuer },
        maxRedirects: 0,
      });
      assert.equal(response.status(), 403, `POST ${action}`);
    }
  } finally {
    await context.close();
  }
  const stillThere = await signedIn('root');
  try {
    await stillThere.page.goto(`${scene.issuer}/admin/grants?user=alice`);
    assert.equal(
      await stillThere.page
        .locator('tr', { hasText: target.client_id })
        .getByRole('link', { name: 'Revoke' })
        .count(),
      1,
      'the grant the non-admin tried to revoke is live',
    );
  } finally {
    await stillThere.context.close();
  }
});

test('admin console: a form posted to an admin action from another origin is refused (CSRF), even with the admin signed in', {
  skip,
}, async () => {
  const { access, client_id } = await aliceTokens('CSRF target app', `tools:execute:${SERVER}`);
  const { context, page } = await signedIn('root');
  const servers: Server[] = [];
  try {
    await page.goto(`${scene.issuer}/admin/grants?user=alice`);
    const row = page.locator('tr', { hasText: client_id });
    await row.getByRole('link', { name: 'Revoke' }).click();
    const form = page.locator('form[method="post"]', { has: page.getByRole('button', { name: 'Confirm' }) });
    const action = new URL((await form.getAttribute('action')) as string, scene.issuer).href;
    const fields: [string, string][] = [];
    for (const input of await form.locator('input[name]').all())
      fields.push([(await input.getAttribute('name')) as string, (await input.getAttribute('value')) ?? '']);

    // Another site (another loopback origin, so the browser still sends the admin's cookies) posts
    // the same form, even with the real token copied into it: the Origin check refuses it.
    const evil = createServer((_req, res) => {
      const inputs = fields
        .map(([n, v]) => `<input type="hidden" name="${n}" value="${v.replace(/"/g, '&quot;')}">`)
        .join('');
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(
        `<!doctype html><form method="post" action="${action}">${inputs}<button>Win a prize</button></form>`,
      );
    });
    servers.push(evil);
    const evilOrigin = await listen(evil);
    await page.goto(evilOrigin);
    const [response] = await Promise.all([
      page.waitForResponse((r) => r.url() === action),
      page.getByRole('button', { name: 'Win a prize' }).click(),
    ]);
    assert.ok(response.status() === 400 || response.status() === 403, `refused with ${response.status()}`);
  } finally {
    await context.close();
    for (const server of servers) await closeServer(server);
  }
  assert.notEqual((await mcpPost(access, 'tools/list')).status, 401, 'the grant is still live');
});

test('admin console: every page reads at 1280 px and at 390 px without scrolling sideways (screenshots under the OS temp folder)', {
  skip,
}, async () => {
  await mkdir(SHOTS, { recursive: true });
  const { context, page } = await signedIn('root');
  try {
    for (const [width, height] of [
      [1280, 800],
      [390, 844],
    ] as const) {
      await page.setViewportSize({ width, height });
      for (const section of SECTIONS) {
        await page.goto(`${scene.issuer}/admin${section}`);
        const name = section.slice(1) || 'overview';
        await page.screenshot({ path: join(SHOTS, `admin-${name}-${width}.png`), fullPage: true });
        const overflow = await page.evaluate(
          () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
        );
        assert.ok(overflow <= 0, `/admin${section} at ${width} px scrolls sideways by ${overflow} px`);
      }
    }
  } finally {
    await context.close();
  }
});

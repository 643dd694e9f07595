import assert from 'node:assert/strict';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { parseBearerChallenge, toNodeListener } from '@gatehouse/core';
import { createGuard } from '@gatehouse/resource';
import { type Browser, chromium } from 'playwright-core';
import { type AuthorizationServer, createAuthorizationServer } from '../src/server.ts';
import { SqliteStore } from '../src/store/sqlite.ts';
import { hashPassword } from '../src/users/password.ts';

/**
 * The "Connected apps" page in a real browser (Debian's chromium, headless): a user authorizes an
 * application, then signs in to their account, sees it, revokes it and signs out.
 */
const CHROMIUM = '/usr/bin/chromium';
const missing = !existsSync(CHROMIUM);
if (missing && process.env.CI === 'true') {
  throw new Error(`${CHROMIUM} is missing; CI must install it (apt-get install -y chromium)`);
}
const skip = missing
  ? `chromium not found at ${CHROMIUM}; install it with: apt-get install -y chromium`
  : false;

const listen = async (server: Server) => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
};

let dir: string;
let store: SqliteStore;
let as: AuthorizationServer;
let issuer: string;
let callbackUri: string;
let browser: Browser | undefined;
const servers: Server[] = [];

before(async () => {
  if (skip) return;
  dir = await mkdtemp(join(tmpdir(), 'gatehouse-browser-'));
  store = new SqliteStore(join(dir, 'gatehouse.db'));
  const asServer = createServer();
  const callback = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end('authorized');
  });
  servers.push(asServer, callback);
  issuer = await listen(asServer);
  callbackUri = `${await listen(callback)}/callback`;
  as = await createAuthorizationServer({
    issuer,
    store,
    masterSecret: randomBytes(32).toString('base64url'),
  });
  asServer.on('request', toNodeListener(as.fetch, issuer));
  await store.createUser({
    id: randomUUID(),
    username: 'alice',
    password_hash: await hashPassword('correct horse battery'),
    disabled: false,
    created_at: Math.floor(Date.now() / 1000),
  });
  await store.createClient({
    client_id: 'notes-app',
    kind: 'preregistered',
    client_name: 'Notes for MCP',
    redirect_uris: [callbackUri],
    token_endpoint_auth_method: 'none',
    grant_types: ['authorization_code', 'refresh_token'],
    created_at: Math.floor(Date.now() / 1000),
  });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
});

after(async () => {
  await browser?.close();
  for (const server of servers) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
  await as?.close();
  await store?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

test('connected apps in a browser: sign in, see the app, revoke it, see it gone, its access token revoked; sign out', {
  skip,
}, async () => {
  const page = await (browser as Browser).newPage();
  // Only loopback: the page loads nothing but our servers.
  await page.route(/^(?!http:\/\/127\.0\.0\.1:)/, (route) => route.abort());

  // 1. The application sends the user to authorize it (authorization code + PKCE).
  const verifier = randomBytes(32).toString('base64url');
  const authorize = new URL('/oauth/authorize', issuer);
  authorize.search = new URLSearchParams({
    response_type: 'code',
    client_id: 'notes-app',
    redirect_uri: callbackUri,
    scope: 'tools:execute:filesystem resources:read',
    state: 's1',
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
  }).toString();
  await page.goto(authorize.href);
  await page.getByLabel('Username').fill('alice');
  await page.getByLabel('Password').fill('correct horse battery');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('button', { name: 'Approve' }).click();
  await page.waitForURL(`${callbackUri}?**`);
  const code = new URL(page.url()).searchParams.get('code') as string;
  const tokenResponse = await fetch(`${issuer}/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code,
      code_verifier: verifier,
      redirect_uri: callbackUri,
      client_id: 'notes-app',
    }),
  });
  assert.equal(tokenResponse.status, 200);
  const { access_token } = (await tokenResponse.json()) as { access_token: string };
  const claims = JSON.parse(Buffer.from(access_token.split('.')[1] as string, 'base64url').toString());
  assert.equal(as.revocations.isRevoked(claims), false);

  // 2. In a fresh browser session, the user signs in at /login and lands on their connected apps.
  const context = await (browser as Browser).newContext();
  const account = await context.newPage();
  await account.route(/^(?!http:\/\/127\.0\.0\.1:)/, (route) => route.abort());
  await account.goto(`${issuer}/account/apps`);
  assert.equal(new URL(account.url()).pathname, '/login', 'signed out, the page asks to sign in');
  await account.getByLabel('Username').fill('alice');
  await account.getByLabel('Password').fill('correct horse battery');
  await account.getByRole('button', { name: 'Sign in' }).click();
  await account.waitForURL(`${issuer}/account/apps`);

  const app = account.locator('li.app', { hasText: 'Notes for MCP' });
  await app.waitFor();
  const text = (await app.textContent()) ?? '';
  assert.match(text, /Run filesystem tools: read and write your files/);
  assert.match(text, /Read resources/);
  assert.match(text, /Allowed .* UTC · last used .* UTC/);

  // 3. Revoke: the app disappears and its access token is revoked at once.
  await app.getByRole('button', { name: 'Revoke access' }).click();
  await account.waitForURL(`${issuer}/account/apps?revoked`);
  assert.equal(await account.locator('li.app').count(), 0);
  assert.match((await account.locator('[role=status]').textContent()) ?? '', /Access revoked/);
  assert.match((await account.locator('.empty').textContent()) ?? '', /No application has access/);
  assert.equal(as.revocations.isRevoked(claims), true, 'the grant’s access token is revoked');

  // 4. Sign out: back to the sign-in page, and the account page asks to sign in again.
  await account.getByRole('button', { name: 'Sign out' }).click();
  await account.waitForURL(`${issuer}/login`);
  await account.goto(`${issuer}/account/apps`);
  assert.equal(new URL(account.url()).pathname, '/login');
  await context.close();
});

test('narrowing in a browser: untick a permission by keyboard and save; the next call needing it with the old token gets 403 insufficient_scope, the rest still works', {
  skip,
}, async () => {
  const context = await (browser as Browser).newContext();
  const page = await context.newPage();
  await page.route(/^(?!http:\/\/127\.0\.0\.1:)/, (route) => route.abort());
  const verifier = randomBytes(32).toString('base64url');
  const authorize = new URL('/oauth/authorize', issuer);
  authorize.search = new URLSearchParams({
    response_type: 'code',
    client_id: 'notes-app',
    redirect_uri: callbackUri,
    scope: 'tools:list tools:execute:filesystem tools:execute:database',
    state: 's2',
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
  }).toString();
  await page.goto(authorize.href);
  await page.getByLabel('Username').fill('alice');
  await page.getByLabel('Password').fill('correct horse battery');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('button', { name: 'Approve' }).click();
  await page.waitForURL(`${callbackUri}?**`);
  const tokenResponse = await fetch(`${issuer}/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code: new URL(page.url()).searchParams.get('code') as string,
      code_verifier: verifier,
      redirect_uri: callbackUri,
      client_id: 'notes-app',
    }),
  });
  const { access_token } = (await tokenResponse.json()) as { access_token: string };

  // The demo's policy in a guard sharing the AS's revocation list, as `gatehouse serve` runs it.
  const guard = createGuard({
    resource: `${issuer}/mcp`,
    authorizationServers: [issuer],
    manifest: { tools: { read_file: 'tools:execute:filesystem', query: 'tools:execute:database' } },
    revocations: as.revocations,
  });
  const call = guard.wrap(async () => Response.json({ ok: true }));
  const callTool = (name: string) =>
    call(
      new Request(`${issuer}/mcp`, {
        method: 'POST',
        headers: { authorization: `Bearer ${access_token}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          jsonrpc: '2.0',
          id: 1,
          method: 'tools/call',
          params: { name, arguments: {} },
        }),
      }),
    );
  try {
    assert.equal((await callTool('query')).status, 200);

    // The authorization's sign-in is a session: the account page opens signed in.
    await page.goto(`${issuer}/account/apps`);
    const app = page.locator('li.app', { hasText: 'Notes for MCP' });
    const database = app.getByRole('checkbox', { name: /Run database tools/ });
    assert.equal(await database.isChecked(), true);
    assert.equal(
      await app.getByRole('group', { name: 'Notes for MCP can:' }).count(),
      1,
      'a fieldset with a legend',
    );
    await database.focus();
    await page.keyboard.press('Space');
    assert.equal(await database.isChecked(), false);
    await app.getByRole('button', { name: 'Save permissions' }).click();
    await page.waitForURL(`${issuer}/account/apps?narrowed`);
    assert.match((await page.locator('[role=status]').textContent()) ?? '', /Permissions saved/);
    const after = page.locator('li.app', { hasText: 'Notes for MCP' });
    assert.equal(await after.getByRole('checkbox', { name: /Run database tools/ }).count(), 0);
    assert.equal(await after.getByRole('checkbox', { name: /Run filesystem tools/ }).isChecked(), true);

    const refused = await callTool('query');
    assert.equal(refused.status, 403);
    const challenge = parseBearerChallenge(refused.headers.get('www-authenticate') ?? '');
    assert.equal(challenge?.error, 'insufficient_scope');
    assert.equal((await callTool('read_file')).status, 200, 'the token still works for what is left');
  } finally {
    guard.close();
    await context.close();
  }
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FileTokenStore } from '@gatehouse/client';
import { browserSkipReason, signInAndConsent } from '../helpers/browser.ts';
import { gatehouse, start } from '../helpers/gatehouse-cli.ts';
import { gatehouseWithChromium, USER } from './helpers.ts';

/**
 * The client verbs of the CLI against `gatehouse serve`, each as its own process, as a user types
 * them: login (the printed URL visited by headless Chromium, which signs in and approves; the
 * system browser is switched off with GATEHOUSE_NO_BROWSER=1), tools, call, tokens, logout.
 */
const skip = browserSkipReason();
const scene = gatehouseWithChromium(skip);

/** The user's environment: their own config folder, and no system browser. */
const env = () => ({ GATEHOUSE_CONFIG_DIR: scene.gh.scratch, GATEHOUSE_NO_BROWSER: '1' });
const cli = (args: string[]) => start(args, env());
const done = (args: string[]) => gatehouse(args, '', env());

test('gatehouse login / tools / call / tokens / logout against gatehouse serve, with the login URL visited in Chromium', {
  skip,
}, async () => {
  const { gh, browser } = scene;
  assert.equal((await done(['tokens'])).stdout, 'No stored tokens.\n');

  const login = cli(['login', gh.mcpUrl]);
  const [url] = await login.waitForOutput(/http:\/\/127\.0\.0\.1:\d+\/oauth\/authorize\?\S+/, 30_000);
  const authorization = new URL(url);
  assert.equal(authorization.searchParams.get('resource'), gh.mcpUrl);
  assert.equal(authorization.searchParams.get('code_challenge_method'), 'S256');
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    await signInAndConsent(page, url, {
      ...USER,
      redirectPrefix: authorization.searchParams.get('redirect_uri') as string,
    });
    assert.match((await page.textContent('body')) ?? '', /return to the terminal/);
  } finally {
    await context.close();
  }
  assert.equal(await login.exited, 0, login.stderr());
  assert.match(login.stdout(), new RegExp(`^Logged in to ${gh.mcpUrl} via ${gh.issuer}`));

  const tools = await done(['tools', gh.mcpUrl]);
  assert.equal(tools.code, 0, tools.stderr);
  for (const name of ['list_files', 'read_file', 'query'])
    assert.match(tools.stdout, new RegExp(`^${name}\\b`, 'm'));

  const call = await done(['call', gh.mcpUrl, 'list_files', '{"path":"."}']);
  assert.equal(call.code, 0, call.stderr);
  const result = JSON.parse(call.stdout) as { content: unknown[]; isError?: boolean };
  assert.ok(Array.isArray(result.content));
  assert.notEqual(result.isError, true);

  const bad = await done(['call', gh.mcpUrl, 'list_files', '[1]']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /must be a JSON object/);

  const stored = await new FileTokenStore({ env: { GATEHOUSE_CONFIG_DIR: gh.scratch } }).listTokens();
  assert.equal(stored.length, 1);
  const listing = await done(['tokens']);
  assert.equal(listing.code, 0);
  assert.match(listing.stdout, new RegExp(`^${gh.mcpUrl}$`, 'm'));
  assert.match(listing.stdout, new RegExp(`issuer: +${gh.issuer}`));
  assert.match(listing.stdout, /refresh: yes/);
  for (const secret of [stored[0]?.access_token, stored[0]?.refresh_token]) {
    assert.ok(secret && !listing.stdout.includes(secret), 'gatehouse tokens never prints a token');
  }

  const grants = async () =>
    JSON.parse(
      (
        await gatehouse([
          'grants',
          'list',
          '--client',
          stored[0]?.client_id as string,
          '--json',
          '--data',
          gh.dataDir,
        ])
      ).stdout,
    ) as unknown[];
  assert.equal((await grants()).length, 1);
  const logout = await done(['logout', gh.mcpUrl]);
  assert.equal(logout.code, 0, logout.stderr);
  assert.equal(logout.stdout, `Logged out of ${gh.mcpUrl}\n`);
  assert.equal(
    (await grants()).length,
    0,
    'RFC 7009: logout revoked the refresh token, and with it the grant',
  );
  assert.equal((await done(['tokens'])).stdout, 'No stored tokens.\n');
  assert.equal((await done(['logout', gh.mcpUrl])).stdout, `No stored login for ${gh.mcpUrl}\n`);
});

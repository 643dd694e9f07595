import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from '../helpers/browser.ts';
import { addUser, type RunningGatehouse, serve } from '../helpers/gatehouse-cli.ts';
import { tempDir } from '../helpers/temp.ts';
import { BrowserOAuthProvider, type LoopbackCallback, startCallback } from './browser-provider.ts';
import type { recordingFetch } from './traffic.ts';

/** What the SDK v1 and v2 test files share: one user, `gatehouse serve`, a callback, a Chromium page. */
export interface SdkScene {
  data: Awaited<ReturnType<typeof tempDir>>;
  server: RunningGatehouse;
  callback: LoopbackCallback;
  browser: Browser;
  page: Page;
  /** The guarded demo MCP server at `<issuer>/mcp`. */
  mcpUrl: URL;
  /** A provider that signs in as the scene's user on the scene's page. */
  provider(
    clientName: string,
    preregistered?: { client_id: string; [key: string]: unknown },
  ): BrowserOAuthProvider;
}

/**
 * A test file's hooks: the scene is set up before its tests (unless `skip`) and torn down after
 * them; the fields are set once `before` has run.
 */
export function sdkScene(user: { username: string; password: string }, skip: string | false): SdkScene {
  const scene = {
    provider: (clientName, preregistered) =>
      new BrowserOAuthProvider({
        page: scene.page,
        callback: scene.callback,
        clientName,
        preregistered,
        ...user,
      }),
  } as SdkScene;
  before(async () => {
    if (skip) return;
    scene.data = await tempDir();
    await addUser(scene.data.dir, user.username, user.password);
    scene.server = await serve(scene.data.dir);
    scene.mcpUrl = new URL(`${scene.server.issuer}/mcp`);
    scene.callback = await startCallback();
    scene.browser = await launchChromium();
    scene.page = await (await scene.browser.newContext()).newPage();
  });
  after(async () => {
    await scene.browser?.close();
    await scene.callback?.close();
    await scene.server?.stop();
    await scene.data?.remove();
  });
  return scene;
}

/**
 * After an SDK's first connection ended at the redirect: RFC 9728 then RFC 8414 discovery and DCR
 * on the wire, the user asked for consent, and an authorization request with PKCE S256 for the
 * MCP server as `resource`.
 */
export function assertFirstAuthorization(
  traffic: ReturnType<typeof recordingFetch>,
  provider: BrowserOAuthProvider,
  mcpUrl: URL,
): URLSearchParams {
  assert.deepEqual(traffic.lines().slice(0, 4), [
    'POST /mcp 401',
    'GET /.well-known/oauth-protected-resource/mcp 200',
    'GET /.well-known/oauth-authorization-server 200',
    'POST /oauth/register 201',
  ]);
  assert.equal(provider.registrations, 1);
  assert.equal(provider.consentShown, true);
  const q = provider.authorizations[0]?.searchParams;
  assert.ok(q);
  assert.equal(q.get('client_id'), provider.clientInformation()?.client_id);
  assert.equal(q.get('code_challenge_method'), 'S256');
  assert.match(q.get('code_challenge') ?? '', /^[A-Za-z0-9_-]{43}$/);
  assert.equal(q.get('resource'), mcpUrl.href);
  return q;
}

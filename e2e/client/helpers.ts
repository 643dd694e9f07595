import { after, before } from 'node:test';
import { type AuthorizationInteraction, type FetchLike, loopbackInteraction } from '@gatehouse/client';
import type { Browser } from 'playwright-core';
import { Agent, approvedScopeOf, csrfOf } from '../helpers/agent.ts';
import { launchChromium, signInAndConsent } from '../helpers/browser.ts';
import { addUser, gatehouse, type RunningGatehouse, serve } from '../helpers/gatehouse-cli.ts';
import { tempDir } from '../helpers/temp.ts';

export const USER = { username: 'carol', password: 'carol-password-123' };

export interface Gatehouse {
  server: RunningGatehouse;
  issuer: string;
  /** The guarded demo MCP server `gatehouse serve` mounts at `<issuer>/mcp`. */
  mcpUrl: string;
  dataDir: string;
  /** A fresh folder for client-side files (token store, key). */
  scratch: string;
  close(): Promise<void>;
}

/** `gatehouse users add` then `gatehouse serve --port 0` on a temp data folder. */
export async function startGatehouse(): Promise<Gatehouse> {
  const data = await tempDir('gatehouse-client-e2e-');
  const scratch = await tempDir('gatehouse-client-home-');
  await addUser(data.dir, USER.username, USER.password);
  const server = await serve(data.dir);
  return {
    server,
    issuer: server.issuer,
    mcpUrl: `${server.issuer}/mcp`,
    dataDir: data.dir,
    scratch: scratch.dir,
    async close() {
      await server.stop();
      await data.remove();
      await scratch.remove();
    },
  };
}

export interface BrowserScene {
  gh: Gatehouse;
  browser: Browser;
}

/**
 * A browser test file's hooks: `gatehouse serve` and headless Chromium, started before its tests
 * (unless `skip`) and closed after them. The fields are set once `before` has run.
 */
export function gatehouseWithChromium(skip: string | false): BrowserScene {
  const scene = {} as BrowserScene;
  before(async () => {
    if (skip) return;
    scene.gh = await startGatehouse();
    scene.browser = await launchChromium();
  });
  after(async () => {
    await scene.browser?.close();
    await scene.gh?.close();
  });
  return scene;
}

/**
 * Sign-in and consent through the AS's HTML forms over HTTP, without a browser: for tests about
 * refresh and storage, where the browser is not the subject. Nothing listens on the redirect URI;
 * the redirect is read from the consent response's `Location`.
 */
export function formInteraction(
  user = USER,
  redirectUri = 'http://127.0.0.1:9/callback',
  /** Sees each consent page before it is approved. */
  onConsentPage?: (html: string) => void,
): AuthorizationInteraction {
  return {
    async begin() {
      return {
        redirectUri,
        async complete(authorizationUrl: URL): Promise<URL> {
          const agent = new Agent();
          const start = await agent.fetch(authorizationUrl);
          let location = start.headers.get('location');
          if (!location) throw new Error(`authorize answered ${start.status}: ${await start.text()}`);
          if (location.startsWith('/interaction/')) {
            const interaction = new URL(location, authorizationUrl).href;
            let page = await (await agent.fetch(interaction)).text();
            if (page.includes('name="password"')) {
              const signIn = await agent.fetch(`${interaction}/login`, {
                method: 'POST',
                form: { csrf: csrfOf(page), username: user.username, password: user.password },
              });
              if (signIn.status !== 303) throw new Error(`sign-in failed: ${signIn.status}`);
              page = await (await agent.fetch(interaction)).text();
            }
            onConsentPage?.(page);
            const consent = await agent.fetch(`${interaction}/consent`, {
              method: 'POST',
              form: { csrf: csrfOf(page), decision: 'approve', scope: approvedScopeOf(page) },
            });
            location = consent.headers.get('location');
            if (!location) throw new Error(`consent answered ${consent.status}`);
          }
          return new URL(location, authorizationUrl);
        },
        async close() {},
      };
    },
  };
}

/**
 * The real loopback interaction (a listener on 127.0.0.1, the redirect coming back to it), with
 * headless Chromium standing in for the system browser: it signs in and approves.
 */
export function chromiumInteraction(
  browser: Browser,
  options: { user?: typeof USER; onOpen?: (url: URL) => void } = {},
): AuthorizationInteraction {
  const user = options.user ?? USER;
  return loopbackInteraction({
    print: () => {},
    open: async (url) => {
      options.onOpen?.(new URL(url));
      const redirect = new URL(url).searchParams.get('redirect_uri') as string;
      const context = await browser.newContext();
      try {
        const page = await context.newPage();
        await signInAndConsent(page, url, { ...user, redirectPrefix: redirect });
      } finally {
        await context.close();
      }
      return true;
    },
  });
}

/** A fetch that counts refresh_token grants sent to the token endpoint: the honest refresh count. */
export function countingFetch(): { fetch: FetchLike; refreshes: () => number } {
  let refreshes = 0;
  return {
    refreshes: () => refreshes,
    async fetch(input, init) {
      const request = new Request(input, init);
      if (request.method === 'POST' && new URL(request.url).pathname === '/oauth/token') {
        const form = new URLSearchParams(await request.clone().text());
        if (form.get('grant_type') === 'refresh_token') refreshes++;
      }
      return fetch(request);
    },
  };
}

/** `token.refreshed` events in `gatehouse audit tail --json`: the server's own count. */
export async function refreshEvents(dataDir: string): Promise<number> {
  const { code, stdout, stderr } = await gatehouse([
    'audit',
    'tail',
    '-n',
    '1000',
    '--json',
    '--data',
    dataDir,
  ]);
  if (code !== 0) throw new Error(`audit tail failed: ${stderr}`);
  return stdout
    .split('\n')
    .filter(Boolean)
    .filter((line) => (JSON.parse(line) as { type?: string }).type === 'token.refreshed').length;
}

export interface Exchange {
  method: string;
  url: URL;
  status: number;
  /** The request's form or JSON body, when it had one. */
  body: string;
  authorization: string | null;
  wwwAuthenticate: string | null;
}

/** A fetch that records every exchange, so a test can check the protocol on the wire. */
export function recordingFetch(): { fetch: FetchLike; log: Exchange[] } {
  const log: Exchange[] = [];
  return {
    log,
    async fetch(input, init) {
      const request = new Request(input, init);
      const body = request.body ? await request.clone().text() : '';
      const response = await fetch(request);
      log.push({
        method: request.method,
        url: new URL(request.url),
        status: response.status,
        body,
        authorization: request.headers.get('authorization'),
        wwwAuthenticate: response.headers.get('www-authenticate'),
      });
      return response;
    },
  };
}

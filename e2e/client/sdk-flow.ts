import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { test } from 'node:test';
import { connectWithOAuth, FileTokenStore, McpOAuthProvider } from '@gatehouse/client';
import { browserSkipReason } from '../helpers/browser.ts';
import { chromiumInteraction, type Exchange, gatehouseWithChromium, recordingFetch } from './helpers.ts';

/**
 * Checks, on the recorded wire traffic, the MCP authorization sequence an SDK client went through
 * with McpOAuthProvider: a 401 with `resource_metadata`, RFC 9728 then RFC 8414 discovery, DCR of a
 * loopback redirect URI, an authorization request with PKCE S256, `state` and `resource`, and a
 * code exchange whose verifier matches the challenge. Shared by the v1 and v2 SDK tests.
 */
export function assertAuthorizationSequence(
  log: Exchange[],
  authorizationUrl: URL | undefined,
  mcpUrl: string,
): void {
  const first = log.find((e) => e.url.href === mcpUrl);
  assert.equal(first?.status, 401, 'the first MCP request is refused');
  assert.equal(first?.authorization, null);
  assert.match(first?.wwwAuthenticate ?? '', /resource_metadata="[^"]+"/);

  const index = (predicate: (e: Exchange) => boolean) => log.findIndex(predicate);
  const prm = index(
    (e) => e.url.pathname.startsWith('/.well-known/oauth-protected-resource') && e.status === 200,
  );
  const asMeta = index(
    (e) => e.url.pathname === '/.well-known/oauth-authorization-server' && e.status === 200,
  );
  const register = index((e) => e.url.pathname === '/oauth/register');
  const token = index((e) => e.url.pathname === '/oauth/token');
  assert.ok(prm >= 0 && asMeta > prm, 'protected-resource metadata, then authorization-server metadata');
  assert.ok(register > asMeta, 'dynamic client registration after discovery');
  assert.equal(log[register]?.status, 201);
  const registered = JSON.parse(log[register]?.body ?? '{}') as { redirect_uris?: string[] };
  assert.match(registered.redirect_uris?.[0] ?? '', /^http:\/\/127\.0\.0\.1:\d+\/callback$/);

  assert.ok(authorizationUrl, 'the user was sent to the authorization endpoint');
  const q = authorizationUrl.searchParams;
  assert.equal(q.get('code_challenge_method'), 'S256');
  assert.equal(q.get('resource'), mcpUrl);
  assert.equal(q.get('redirect_uri'), registered.redirect_uris?.[0]);
  assert.ok((q.get('state') ?? '').length >= 16);

  assert.ok(token > register, 'the code exchange comes last');
  const form = new URLSearchParams(log[token]?.body);
  assert.equal(form.get('grant_type'), 'authorization_code');
  assert.equal(form.get('resource'), mcpUrl);
  const verifier = form.get('code_verifier') ?? '';
  assert.equal(createHash('sha256').update(verifier).digest('base64url'), q.get('code_challenge'));
  assert.equal(log[token]?.status, 200);
}

/** What the shared test needs of an official SDK's client and transport, v1 or v2. */
interface SdkClient<T> {
  connect(transport: T): Promise<void>;
  callTool(params: { name: string; arguments: Record<string, unknown> }): Promise<{ [key: string]: unknown }>;
  listTools(): Promise<{ tools: { name: string }[] }>;
  close(): Promise<void>;
}

export interface SdkUnderTest<T> {
  version: 'v1' | 'v2';
  client(): SdkClient<T>;
  /** The SDK's Streamable HTTP transport with `provider` as its `authProvider`. */
  transport(provider: McpOAuthProvider): T & { finishAuth(code: string): Promise<void> };
}

/**
 * The whole MCP authorization of an official SDK client with McpOAuthProvider as its
 * `authProvider`, against `gatehouse serve` with sign-in and consent in headless Chromium; then a
 * second start on the same token store that needs neither browser nor registration.
 */
export function testSdkAuthorization<T>(sdk: SdkUnderTest<T>): void {
  const skip = browserSkipReason();
  const scene = gatehouseWithChromium(skip);

  test(`MCP authorization, SDK ${sdk.version}: from the 401 through discovery, DCR, PKCE and consent in Chromium to a working tool call`, {
    skip,
  }, async () => {
    const { gh, browser } = scene;
    const wire = recordingFetch();
    const store = new FileTokenStore({
      path: join(gh.scratch, `${sdk.version}.json`),
      keyPath: join(gh.scratch, `${sdk.version}.key`),
    });
    let authorizationUrl: URL | undefined;
    const provider = new McpOAuthProvider({
      resource: gh.mcpUrl,
      store,
      fetch: wire.fetch,
      interaction: chromiumInteraction(browser, { onOpen: (url) => (authorizationUrl = url) }),
      registration: { clientMetadata: { client_name: `SDK ${sdk.version} e2e` } },
    });
    const client = sdk.client();
    await connectWithOAuth(
      (t) => client.connect(t),
      () => sdk.transport(provider),
      provider,
    );
    try {
      const result = await client.callTool({ name: 'list_files', arguments: { path: '.' } });
      assert.notEqual(result.isError, true, JSON.stringify(result));
      assertAuthorizationSequence(wire.log, authorizationUrl, gh.mcpUrl);
      const stored = await store.listTokens();
      assert.equal(stored.length, 1);
      assert.equal(stored[0]?.resource, gh.mcpUrl);
      assert.equal(stored[0]?.issuer, gh.issuer);
      assert.ok(stored[0]?.refresh_token, 'the refresh token went to our store');
    } finally {
      await client.close();
      await provider.close();
    }

    // A new process-like start on the same store: no browser, no registration, straight in.
    const again = new McpOAuthProvider({
      resource: gh.mcpUrl,
      store,
      fetch: wire.fetch,
      interaction: {
        begin: () => Promise.reject(new Error('the browser must not be needed with stored tokens')),
      },
    });
    const before = wire.log.length;
    const second = sdk.client();
    await second.connect(sdk.transport(again));
    try {
      const { tools } = await second.listTools();
      assert.ok(tools.some((t) => t.name === 'list_files'));
      const later = wire.log.slice(before);
      assert.ok(later.every((e) => e.status !== 401 && !e.url.pathname.startsWith('/oauth/')));
    } finally {
      await second.close();
      await again.close();
    }
  });
}

import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { connectWithOAuth, FileTokenStore, McpOAuthProvider } from '@gatehouse/client';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import type { Browser } from 'playwright-core';
import { browserSkipReason, launchChromium } from '../helpers/browser.ts';
import { chromiumInteraction, type Gatehouse, recordingFetch, startGatehouse } from './helpers.ts';
import { assertAuthorizationSequence } from './sdk-flow.ts';

/**
 * The official MCP SDK v2 client (`@modelcontextprotocol/client`) with McpOAuthProvider as its
 * `authProvider`, against `gatehouse serve`; sign-in and consent in headless Chromium.
 */
const skip = browserSkipReason();
let gh: Gatehouse;
let browser: Browser;
before(async () => {
  if (skip) return;
  gh = await startGatehouse();
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
  await gh?.close();
});

test('MCP authorization, SDK v2: from the 401 through discovery, DCR, PKCE and consent in Chromium to a working tool call', {
  skip,
}, async () => {
  const wire = recordingFetch();
  const store = new FileTokenStore({
    path: join(gh.scratch, 'v2.json'),
    keyPath: join(gh.scratch, 'v2.key'),
  });
  let authorizationUrl: URL | undefined;
  const provider = new McpOAuthProvider({
    resource: gh.mcpUrl,
    store,
    fetch: wire.fetch,
    interaction: chromiumInteraction(browser, { onOpen: (url) => (authorizationUrl = url) }),
    registration: { clientMetadata: { client_name: 'SDK v2 e2e' } },
  });
  const client = new Client({ name: 'gatehouse-e2e', version: '1.0.0' }, { capabilities: {} });
  const makeTransport = () =>
    new StreamableHTTPClientTransport(provider.serverUrl, { authProvider: provider, fetch: provider.fetch });
  await connectWithOAuth((t) => client.connect(t), makeTransport, provider);
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
  const second = new Client({ name: 'gatehouse-e2e', version: '1.0.0' }, { capabilities: {} });
  await second.connect(
    new StreamableHTTPClientTransport(again.serverUrl, { authProvider: again, fetch: again.fetch }),
  );
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

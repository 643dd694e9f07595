import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { testSdkAuthorization } from './sdk-flow.ts';

/**
 * The official MCP SDK v1 client (`@modelcontextprotocol/sdk` 1.32) with McpOAuthProvider as its
 * `authProvider`, against `gatehouse serve`; sign-in and consent in headless Chromium.
 */
testSdkAuthorization({
  version: 'v1',
  client: () => new Client({ name: 'gatehouse-e2e', version: '1.0.0' }, { capabilities: {} }),
  transport: (provider) =>
    new StreamableHTTPClientTransport(provider.serverUrl, { authProvider: provider, fetch: provider.fetch }),
});

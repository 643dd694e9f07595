import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { testSdkAuthorization } from './sdk-flow.ts';

/**
 * The official MCP SDK v2 client (`@modelcontextprotocol/client`) with McpOAuthProvider as its
 * `authProvider`, against `gatehouse serve`; sign-in and consent in headless Chromium.
 */
testSdkAuthorization({
  version: 'v2',
  client: () => new Client({ name: 'gatehouse-e2e', version: '1.0.0' }, { capabilities: {} }),
  transport: (provider) =>
    new StreamableHTTPClientTransport(provider.serverUrl, { authProvider: provider, fetch: provider.fetch }),
});

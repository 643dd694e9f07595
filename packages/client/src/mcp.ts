import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import type { OAuthClient } from './session.ts';

export interface ConnectOptions {
  /** Pin a 2026-07-28+ (stateless) revision; default: the SDK's negotiation (legacy handshake). */
  protocolVersion?: string | undefined;
  clientInfo?: { name: string; version: string };
}

/** Whether a protocol revision belongs to the stateless era (SEP-2575). */
export function isStatelessRevision(version: string | undefined): boolean {
  return version !== undefined && version >= '2026-07-28';
}

/**
 * Connects the official MCP SDK client (v2) to an MCP server through the OAuth client's `fetch`,
 * which adds the bearer token, refreshes and steps up as needed.
 *
 * @example const mcp = await connectMcp(oauth); const { tools } = await mcp.listTools();
 */
export async function connectMcp(oauth: OAuthClient, options: ConnectOptions = {}): Promise<Client> {
  const client = new Client(
    options.clientInfo ?? { name: 'gatehouse', version: '0.1.0' },
    isStatelessRevision(options.protocolVersion)
      ? { capabilities: {}, versionNegotiation: { mode: { pin: options.protocolVersion as '2026-07-28' } } }
      : { capabilities: {} },
  );
  const transport = new StreamableHTTPClientTransport(oauth.resourceUrl, { fetch: oauth.fetch });
  await client.connect(transport);
  return client;
}

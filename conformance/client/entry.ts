/**
 * The conformance suite's client command: `node conformance/client/entry.ts <mcp-url>`.
 *
 * A thin layer over @gatehouse/client's public API. It reads the scenario
 * (`MCP_CONFORMANCE_SCENARIO`) and its data (`MCP_CONFORMANCE_CONTEXT`), lists the tools and calls
 * the first one, and follows the mock authorization server's redirect headlessly (it approves
 * without a user). Exit code 0 on success, 1 on any error (printed without secrets).
 */
import {
  type ClientAuthentication,
  connectMcp,
  headlessInteraction,
  MemoryTokenStore,
  OAuthClient,
  type PreRegisteredClient,
} from '@gatehouse/client';

/** The client ID metadata document URL the suite's CIMD scenario expects. */
const CIMD_URL = 'https://conformance-test.local/client-metadata.json';

interface Context {
  name?: string;
  client_id?: string;
  client_secret?: string;
  private_key_pem?: string;
  signing_algorithm?: string;
}

async function main(): Promise<void> {
  const serverUrl = process.argv[2];
  if (!serverUrl) throw new Error('usage: entry.ts <mcp-server-url>');
  const scenario = process.env.MCP_CONFORMANCE_SCENARIO ?? '';
  const context = JSON.parse(process.env.MCP_CONFORMANCE_CONTEXT ?? '{}') as Context;

  let clientCredentials: Exclude<ClientAuthentication, { method: 'none' }> | undefined;
  const preRegistered: PreRegisteredClient[] = [];
  if (scenario === 'auth/client-credentials-basic' && context.client_id && context.client_secret) {
    clientCredentials = {
      method: 'client_secret_basic',
      client_id: context.client_id,
      client_secret: context.client_secret,
    };
  } else if (scenario === 'auth/client-credentials-jwt' && context.client_id && context.private_key_pem) {
    clientCredentials = {
      method: 'private_key_jwt',
      client_id: context.client_id,
      private_key: context.private_key_pem,
      alg: context.signing_algorithm ?? 'ES256',
    };
  } else if (context.client_id) {
    preRegistered.push({
      client_id: context.client_id,
      ...(context.client_secret ? { client_secret: context.client_secret } : {}),
    });
  }

  const oauth = new OAuthClient({
    resource: serverUrl,
    store: new MemoryTokenStore(),
    interaction: headlessInteraction({ redirectUri: 'http://127.0.0.1:3000/callback' }),
    ...(clientCredentials ? { clientCredentials } : {}),
    registration: {
      preRegistered,
      clientMetadata: { client_name: 'gatehouse-conformance-client' },
      // Only where the scenario asks for CIMD: elsewhere the suite would try to fetch this
      // (unresolvable, non-loopback) URL to inspect the document.
      ...(scenario === 'auth/basic-cimd' ? { clientMetadataUrl: CIMD_URL } : {}),
    },
  });
  const mcp = await connectMcp(oauth, { protocolVersion: process.env.MCP_CONFORMANCE_PROTOCOL_VERSION });
  try {
    const { tools } = await mcp.listTools();
    const tool = tools[0];
    if (tool && !scenario.startsWith('auth/client-credentials'))
      await mcp.callTool({ name: tool.name, arguments: {} });
  } finally {
    await mcp.close();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    const code = (err as { code?: unknown }).code;
    process.stderr.write(`error${typeof code === 'string' ? ` (${code})` : ''}: ${(err as Error).message}\n`);
    process.exit(1);
  },
);

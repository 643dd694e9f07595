import type { McpOAuthProvider } from './provider.ts';

/** The part of an SDK transport (v1 or v2) that completes an authorization. */
export interface FinishableTransport {
  finishAuth(authorizationCode: string, iss?: string): Promise<void>;
}

/**
 * The SDK's interactive sequence, once: connect; when the server's 401 made the SDK send the user
 * to the authorization server, wait for the (checked) callback, let the transport redeem the code
 * with PKCE, and connect again on a fresh transport. Works with v2 `@modelcontextprotocol/client`
 * and v1 `@modelcontextprotocol/sdk` alike.
 *
 * Never loops: a second failure after authorizing is thrown to the caller.
 *
 * @example
 * const transport = await connectWithOAuth(
 *   (t) => client.connect(t),
 *   () => new StreamableHTTPClientTransport(provider.serverUrl, { authProvider: provider, fetch: provider.fetch }),
 *   provider,
 * );
 */
export async function connectWithOAuth<T extends FinishableTransport>(
  connect: (transport: T) => Promise<void>,
  makeTransport: () => T,
  provider: McpOAuthProvider,
): Promise<T> {
  const first = makeTransport();
  try {
    await connect(first);
    return first;
  } catch (err) {
    if (!provider.authorizationPending) throw err;
  }
  const params = await provider.authorizationResponse();
  // Pass `iss` along: the v2 SDK checks it too (v1 ignores the argument).
  await first.finishAuth(params.get('code') ?? '', params.get('iss') ?? undefined);
  const second = makeTransport();
  await connect(second);
  return second;
}

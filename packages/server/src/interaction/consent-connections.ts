import type { Context } from '../context.ts';
import type { Vault } from '../vault/vault.ts';

/** An upstream account the MCP server of a consent page uses, and where the user stands with it. */
export interface ConsentConnection {
  provider: string;
  /** `missing`: never connected (or removed); `broken`: its refresh failed, connect again. */
  state: 'active' | 'missing' | 'broken';
  /** The connect page, returning to this consent page afterwards. */
  href: string;
}

/**
 * The upstream API connections the server at `resource` needs (config `connectionsOf`), with the
 * user's state for each, so the consent page can offer to connect them before approving (issue
 * #12: "the user connects their account: during consent, or later"). Read from the store only:
 * showing the page never refreshes an upstream token.
 */
export async function consentConnections(
  ctx: Context,
  vault: Vault,
  userId: string,
  resource: string,
  interaction: string,
): Promise<ConsentConnection[]> {
  const providers = [...new Set(ctx.config.connectionsOf(resource))].filter((p) => vault.has(p));
  return Promise.all(
    providers.map(async (provider) => {
      const row = await ctx.store.getConnection(userId, provider);
      return {
        provider,
        state: row === undefined ? 'missing' : row.state,
        href: `/connect/${encodeURIComponent(provider)}?interaction=${interaction}`,
      } satisfies ConsentConnection;
    }),
  );
}

import { withDeadline } from '@gatehouse/core';
import type { Context } from '../context.ts';
import type { ToolScope } from './consent-choices.ts';

/** How long a consent page waits for the tool list (a gateway may ask an upstream for it). */
export const TOOLS_OF_DEADLINE_MS = 5000;

/**
 * The tools `resource` offers, for naming them on the consent page (config `toolsOf`). The names
 * only help the user read the page: should the list fail or be late, the page shows the sentences
 * alone rather than fail or hang.
 */
export async function toolsOf(ctx: Context, resource: string): Promise<ToolScope[]> {
  try {
    const tools = await withDeadline(resource, { timeoutMs: TOOLS_OF_DEADLINE_MS }, () =>
      ctx.config.toolsOf(resource),
    );
    return Array.isArray(tools)
      ? tools.filter((t) => typeof t?.name === 'string' && typeof t.scope === 'string')
      : [];
  } catch {
    return [];
  }
}

import type { Router } from '@gatehouse/core';
import type { Context } from '../context.ts';
import type { Vault } from '../vault/vault.ts';
import { addAuditRoutes } from './audit-page.ts';
import { addClientsRoutes } from './clients-page.ts';
import { addConnectionsRoutes } from './connections-page.ts';
import { addGrantsRoutes } from './grants-page.ts';
import { addKeysRoutes } from './keys-page.ts';
import { ADMIN_STYLESHEET_PATH, adminStylesheet } from './layout.ts';
import { showOverview } from './overview-page.ts';
import { ADMIN_HOME } from './return-path.ts';
import { addUsersRoutes } from './users-page.ts';

export { ADMIN_CSRF_PURPOSE } from './auth.ts';

/**
 * The admin console under /admin: server-rendered pages, no script, every form CSRF-protected,
 * every page behind `requireAdmin`. Each section adds its routes here, one line each, through the
 * one router (so 405, 413 and error pages are the HTTP layer's, never the pages' own).
 */
export function addAdminRoutes(router: Router, ctx: Context, vault: Vault): void {
  const css = () =>
    new Response(adminStylesheet, {
      headers: { 'content-type': 'text/css', 'cache-control': 'public, max-age=3600' },
    });
  router.add(ADMIN_STYLESHEET_PATH, { GET: css });
  addUsersRoutes(router, ctx, vault);
  addClientsRoutes(router, ctx);
  addGrantsRoutes(router, ctx);
  addConnectionsRoutes(router, ctx, vault);
  addKeysRoutes(router, ctx);
  addAuditRoutes(router, ctx);
  router.add(ADMIN_HOME, { GET: (request) => showOverview(ctx, request) }, { page: true });
}

import type { Router } from '@gatehouse/core';
import type { Context } from '../context.ts';
import { html } from '../interaction/html.ts';
import { adminCsrf, requireAdmin } from './auth.ts';
import { adminPage } from './layout.ts';

export const CONNECTIONS_PATH = '/admin/connections';

/**
 * `GET /admin/connections`: users' connections to upstream providers live in the vault, which does
 * not exist yet (issue #12). The page says so rather than showing anything made up; when the vault
 * lands it lists each user's connections (provider, state, last refresh; never token values).
 */
export function addConnectionsRoutes(router: Router, ctx: Context): void {
  router.add(CONNECTIONS_PATH, { GET: (request) => showConnections(ctx, request) }, { page: true });
}

async function showConnections(ctx: Context, request: Request): Promise<Response> {
  const admin = await requireAdmin(ctx, request);
  if (admin instanceof Response) return admin;
  const csrf = adminCsrf(ctx, request);
  const body = html`<p>Gatehouse does not store connections to upstream providers yet: the vault that will hold
each user's upstream API tokens is still to be built. Until then there is nothing to list here.</p>
<p>When it exists, this page will show each user's connections per provider, their state and last refresh,
and let you remove one. Token values are never shown.</p>`;
  return adminPage(ctx, {
    title: 'Connections',
    active: 'connections',
    body,
    csrf: csrf.token,
    setCookie: csrf.setCookie,
  });
}

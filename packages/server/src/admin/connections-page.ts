import type { Router } from '@gatehouse/core';
import type { Context } from '../context.ts';
import { html, type SafeHtml } from '../interaction/html.ts';
import { errorPage } from '../interaction/pages.ts';
import { page, redirect } from '../interaction/responses.ts';
import type { ConnectionRecord } from '../store/types.ts';
import type { Vault } from '../vault/vault.ts';
import { adminCsrf, adminForm, confirmed, requireAdmin } from './auth.ts';
import { adminPage, confirmPage } from './layout.ts';
import { utcTime } from './time.ts';

export const CONNECTIONS_PATH = '/admin/connections';
const REMOVE_PATH = '/admin/connections/remove';

/**
 * `/admin/connections`: every user's connections to upstream providers (the token vault, issue
 * #12): provider, state, when connected and last refreshed or updated; never token values. Remove
 * asks for a confirmation, goes through the vault (which revokes upstream where it can) and is
 * audited with the acting admin.
 */
export function addConnectionsRoutes(router: Router, ctx: Context, vault: Vault): void {
  router
    .add(CONNECTIONS_PATH, { GET: (request) => showConnections(ctx, request) }, { page: true })
    .add(
      REMOVE_PATH,
      { GET: (request) => askRemove(ctx, request), POST: (request) => remove(ctx, vault, request) },
      { page: true },
    );
}

async function showConnections(ctx: Context, request: Request): Promise<Response> {
  const admin = await requireAdmin(ctx, request);
  if (admin instanceof Response) return admin;
  const names = new Map((await ctx.store.listUsers()).map((u) => [u.id, u.username]));
  const connections = (await ctx.store.listConnections()).sort(
    (a, b) =>
      (names.get(a.user_id) ?? a.user_id).localeCompare(names.get(b.user_id) ?? b.user_id) ||
      a.provider.localeCompare(b.provider),
  );
  const body = connections.length
    ? html`<div class="table-wrap"><table>
<thead><tr><th>User</th><th>Provider</th><th>State</th><th>Connected</th><th>Last refresh or update</th><th>Actions</th></tr></thead>
<tbody>${connections.map((c) => connectionRow(c, names))}</tbody></table></div>`
    : html`<p>No user has connected an upstream account.</p>`;
  const notice = new URL(request.url).searchParams.has('removed')
    ? 'Connection removed. Its tokens were revoked upstream where the provider allows it.'
    : undefined;
  const csrf = adminCsrf(ctx, request);
  return adminPage(ctx, {
    title: 'Connections',
    active: 'connections',
    body,
    csrf: csrf.token,
    setCookie: csrf.setCookie,
    notice,
  });
}

/** One row, from named fields only: no token, even encrypted, can reach the page. */
function connectionRow(c: ConnectionRecord, names: Map<string, string>): SafeHtml {
  const query = `user=${encodeURIComponent(c.user_id)}&provider=${encodeURIComponent(c.provider)}`;
  const state =
    c.state === 'broken'
      ? html`<span class="badge warn">Broken</span>`
      : html`<span class="badge">Active</span>`;
  return html`<tr data-user="${c.user_id}" data-provider="${c.provider}"><td>${names.get(c.user_id) ?? c.user_id}</td>
<td><code>${c.provider}</code></td><td>${state}</td><td>${utcTime(c.created_at)}</td><td>${utcTime(c.updated_at)}</td>
<td class="actions"><a class="button secondary" href="${REMOVE_PATH}?${query}">Remove</a></td></tr>`;
}

const notFound = () =>
  page(errorPage('Not found', 'There is no such connection. It may have been removed already.'), 404);

async function found(ctx: Context, userId: string | null | undefined, provider: string | null | undefined) {
  if (!userId || !provider) return undefined;
  const connection = await ctx.store.getConnection(userId, provider);
  if (!connection) return undefined;
  const user = await ctx.store.getUser(userId);
  return { userId, provider, who: user?.username ?? userId };
}

function removeQuestion(
  ctx: Context,
  request: Request,
  c: { userId: string; provider: string; who: string },
): Response {
  const csrf = adminCsrf(ctx, request);
  return confirmPage(ctx, {
    title: 'Remove connection',
    question: `Remove ${c.who}'s connection to ${c.provider}? Its tokens are revoked upstream where the provider allows it and deleted here; ${c.who} must connect again to use it.`,
    action: REMOVE_PATH,
    csrf: csrf.token,
    setCookie: csrf.setCookie,
    fields: { user: c.userId, provider: c.provider },
    cancel: CONNECTIONS_PATH,
  });
}

/** `GET /admin/connections/remove?user=ID&provider=ID`: the confirmation. */
async function askRemove(ctx: Context, request: Request): Promise<Response> {
  const admin = await requireAdmin(ctx, request);
  if (admin instanceof Response) return admin;
  const params = new URL(request.url).searchParams;
  const c = await found(ctx, params.get('user'), params.get('provider'));
  if (!c) return notFound();
  return removeQuestion(ctx, request, c);
}

/** `POST /admin/connections/remove` with `confirm=yes`: removes through the vault, audited with the admin. */
async function remove(ctx: Context, vault: Vault, request: Request): Promise<Response> {
  const posted = await adminForm(ctx, request);
  if (posted instanceof Response) return posted;
  const c = await found(ctx, posted.form.get('user'), posted.form.get('provider'));
  if (!c) return notFound();
  if (!confirmed(posted.form)) return removeQuestion(ctx, request, c);
  if (!(await vault.remove(c.userId, c.provider))) return notFound();
  ctx.audit({
    type: 'connection.removed',
    user_id: c.userId,
    actor: posted.admin.id,
    detail: { provider: c.provider },
  });
  return redirect(`${CONNECTIONS_PATH}?removed`);
}

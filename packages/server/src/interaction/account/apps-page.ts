import { hasScope, OFFLINE_ACCESS, parseScope, type ScopeDefinition } from '@gatehouse/core';
import type { Context } from '../../context.ts';
import type { ConnectionRecord, UserRecord } from '../../store/types.ts';
import { html, type SafeHtml } from '../html.ts';
import { layout } from '../pages.ts';

/**
 * One permission of a grant on the page: a checkbox the user may untick to narrow the grant, or a
 * line without one: `required` for scopes the operator made required (config `consent.required`),
 * `renewal` for `offline_access` (not a permission on the resource; revoking ends it).
 */
export interface GrantedScope extends ScopeDefinition {
  fixed?: 'required' | 'renewal' | undefined;
}

/** One connected application as the user sees it: who, what it may do, since when. */
export interface ConnectedApp {
  grantId: string;
  clientName: string;
  /** The verified publisher's domain for CIMD clients. */
  verifiedDomain?: string | undefined;
  resource: string;
  scopes: GrantedScope[];
  grantedAt: number;
  lastUsedAt: number;
}

/** The user's live grants (not revoked, not past their absolute lifetime), newest first. */
export async function connectedApps(ctx: Context, user: UserRecord): Promise<ConnectedApp[]> {
  const now = ctx.now();
  const grants = (await ctx.store.listGrants({ subject: user.id })).filter((g) => g.expires_at > now);
  const apps: ConnectedApp[] = [];
  for (const grant of grants.reverse()) {
    // The store, not the registry: listing apps must never fetch a CIMD document from the network.
    const client = await ctx.store.getClient(grant.client_id);
    const scopes = parseScope(grant.scope);
    apps.push({
      grantId: grant.id,
      clientName: client?.client_name ?? grant.client_id,
      verifiedDomain: client?.kind === 'cimd' ? new URL(client.client_id).hostname : undefined,
      resource: grant.resource,
      scopes: ctx.catalogue.describe(scopes).map((d) => ({ ...d, fixed: fixedScope(ctx, d.name) })),
      grantedAt: grant.created_at,
      lastUsedAt: grant.last_used_at,
    });
  }
  return apps;
}

/** Why a granted scope has no checkbox on the page, if it has none; see {@link GrantedScope}. */
export function fixedScope(ctx: Context, scope: string): GrantedScope['fixed'] {
  if (scope === OFFLINE_ACCESS) return 'renewal';
  return hasScope(ctx.config.consent.required, scope) ? 'required' : undefined;
}

const dateFormat = new Intl.DateTimeFormat('en-GB', {
  dateStyle: 'medium',
  timeStyle: 'short',
  timeZone: 'UTC',
});

function time(seconds: number) {
  const date = new Date(seconds * 1000);
  return html`<time datetime="${date.toISOString()}">${dateFormat.format(date)} UTC</time>`;
}

/** One permission: a ticked checkbox, or a line for what cannot be unticked here. */
function grantedItem(scope: GrantedScope, id: string): SafeHtml {
  if (scope.fixed) {
    const why = scope.fixed === 'required' ? '(required)' : '(ends when you revoke access)';
    return html`<li data-scope="${scope.name}"><div class="choice fixed"><span class="sentence">${scope.description}</span> <span class="required">${why}</span></div></li>`;
  }
  return html`<li data-scope="${scope.name}"><div class="choice"><input type="checkbox" id="${id}" name="scope" value="${scope.name}" checked><label for="${id}"><span class="sentence">${scope.description}</span></label></div></li>`;
}

/**
 * The application's permissions as checkboxes, all ticked: unticking some and saving narrows the
 * grant (no script; the same CSRF token as every account form).
 */
function narrowForm(csrf: string, app: ConnectedApp, index: number): SafeHtml {
  return html`<form method="post" action="/account/apps/narrow" class="narrow">
<input type="hidden" name="csrf" value="${csrf}">
<input type="hidden" name="grant" value="${app.grantId}">
<fieldset class="scopes">
<legend>${app.clientName} can:</legend>
<ul class="choices">
${app.scopes.map((s, j) => grantedItem(s, `app-${index}-scope-${j}`))}
</ul>
</fieldset>
${app.scopes.some((s) => !s.fixed) ? html`<button type="submit" class="narrow">Save permissions</button>` : ''}
</form>`;
}

export interface AppsView {
  username: string;
  csrf: string;
  apps: ConnectedApp[];
  /** The user's upstream connections (the token vault); only their metadata, never token values. */
  connections?: readonly ConnectionRecord[] | undefined;
  /** The upstream APIs this server can connect (the configuration's `connections`). */
  connectable?: readonly string[] | undefined;
  /** A one-line confirmation after an action, e.g. "Access for X was revoked." */
  notice?: string | undefined;
}

/**
 * "Connected apps": each application, its permissions in sentences with a checkbox each (untick
 * and save to narrow the grant), and a button to revoke it.
 */
export function appsPage(view: AppsView): string {
  return layout(
    'Connected apps',
    html`<h1>Connected apps</h1>
<p>Signed in as <strong class="username">${view.username}</strong>.</p>
${view.notice ? html`<p class="notice" role="status">${view.notice}</p>` : ''}
${
  view.apps.length === 0
    ? html`<p class="empty">No application has access to your account.</p>`
    : html`<ul class="apps">
${view.apps.map(
  (app, i) => html`<li class="app" data-grant="${app.grantId}">
<h2 class="client-name">${app.clientName}</h2>
${app.verifiedDomain ? html`<p class="meta verified">Published by ${app.verifiedDomain}</p>` : ''}
${narrowForm(view.csrf, app, i)}
<p class="meta">on <code>${app.resource}</code></p>
<p class="meta">Allowed ${time(app.grantedAt)} · last used ${time(app.lastUsedAt)}</p>
<form method="post" action="/account/apps/revoke" class="inline">
<input type="hidden" name="csrf" value="${view.csrf}">
<input type="hidden" name="grant" value="${app.grantId}">
<button type="submit" class="revoke">Revoke access</button>
</form>
</li>`,
)}
</ul>`
}
${connectedAccounts(view.csrf, view.connections ?? [], view.connectable ?? [])}
<form method="post" action="/logout">
<input type="hidden" name="csrf" value="${view.csrf}">
<button type="submit" class="secondary">Sign out</button>
</form>`,
  );
}

/**
 * "Connected accounts": the user's upstream connections, state and times, with a Remove form each.
 * Built from named fields only, so no token (even encrypted) can reach the page.
 */
function connectedAccounts(
  csrf: string,
  connections: readonly ConnectionRecord[],
  connectable: readonly string[],
): SafeHtml {
  // Connections the server offers that this user has not made yet: a link to make each.
  const missing = connectable.filter((p) => !connections.some((c) => c.provider === p));
  const items = connections.map(
    (c) => html`<li class="connection" data-provider="${c.provider}">
<h3 class="provider">${c.provider}</h3>
${
  c.state === 'broken'
    ? html`<p class="meta state broken">Broken: the provider no longer accepts it. <a href="/connect/${encodeURIComponent(c.provider)}">Reconnect</a></p>`
    : html`<p class="meta state active">Active</p>`
}
<p class="meta">Connected ${time(c.created_at)} · updated ${time(c.updated_at)}</p>
<form method="post" action="/account/connections/remove" class="inline">
<input type="hidden" name="csrf" value="${csrf}">
<input type="hidden" name="provider" value="${c.provider}">
<button type="submit" class="revoke">Remove</button>
</form>
</li>`,
  );
  if (connections.length === 0 && missing.length === 0) return html``;
  return html`<section class="connections">
<h2>Connected accounts</h2>
${
  connections.length === 0
    ? html`<p class="empty">You have not connected any account.</p>`
    : html`<ul class="connections">${items}</ul>`
}
${missing.map((p) => html`<p class="connect"><a href="/connect/${encodeURIComponent(p)}">Connect ${p}</a></p>`)}
</section>`;
}

import { formatScope, parseScope, type Router } from '@gatehouse/core';
import type { Context } from '../context.ts';
import { narrowGrantTo, revokeGrantAndConsent } from '../interaction/grant-changes.ts';
import { html, type SafeHtml } from '../interaction/html.ts';
import { errorPage } from '../interaction/pages.ts';
import { page, redirect } from '../interaction/responses.ts';
import type { GrantRecord, UserRecord } from '../store/types.ts';
import { adminCsrf, adminForm, confirmed, requireAdmin } from './auth.ts';
import { adminPage, confirmPage } from './layout.ts';
import { utcTime } from './time.ts';

export const GRANTS_PATH = '/admin/grants';
const REVOKE_PATH = '/admin/grants/revoke';
const NARROW_PATH = '/admin/grants/narrow';
/** Rows shown at most; narrower filters find the rest. */
const MAX_ROWS = 200;

/**
 * `/admin/grants`: search grants by user, client and server (the resource); revoke one, or narrow
 * it to fewer scopes, each after a confirmation and audited with the acting admin. Both reuse what
 * the connected-apps page does (grant-changes.ts), so guards refuse or cap the grant's tokens at
 * their next call.
 */
export function addGrantsRoutes(router: Router, ctx: Context): void {
  router
    .add(GRANTS_PATH, { GET: (request) => showGrants(ctx, request) }, { page: true })
    .add(
      REVOKE_PATH,
      { GET: (request) => askRevoke(ctx, request), POST: (request) => revoke(ctx, request) },
      { page: true },
    )
    .add(
      NARROW_PATH,
      { GET: (request) => showNarrow(ctx, request), POST: (request) => narrow(ctx, request) },
      { page: true },
    );
}

/** A server matches its resource URL, or the last path segment of it (`files` for `…/mcp/files`). */
const servesAs = (resource: string, server: string) =>
  resource === server || resource.split('/').at(-1) === server;

/** `GET /admin/grants?user=&client=&server=&revoked=1`: the grants found, newest first. */
async function showGrants(ctx: Context, request: Request): Promise<Response> {
  const admin = await requireAdmin(ctx, request);
  if (admin instanceof Response) return admin;
  const params = new URL(request.url).searchParams;
  const userName = params.get('user')?.trim() ?? '';
  const client = params.get('client')?.trim() ?? '';
  const server = params.get('server')?.trim() ?? '';
  const withRevoked = params.get('revoked') === '1';
  const users = await ctx.store.listUsers();
  const names = new Map(users.map((u) => [u.id, u.username]));
  const subject = userName ? (users.find((u) => u.username === userName)?.id ?? userName) : undefined;
  const grants = (
    await ctx.store.listGrants({
      subject,
      client_id: client || undefined,
      include_revoked: withRevoked,
    })
  )
    .filter((g) => !server || servesAs(g.resource, server))
    .sort((a, b) => b.created_at - a.created_at);
  const shown = grants.slice(0, MAX_ROWS);
  const rows = shown.map((g) => grantRow(g, names));
  const form = html`<form method="get" action="${GRANTS_PATH}" class="search" aria-label="Search grants">
<label>User <input name="user" value="${userName}" placeholder="username"></label>
<label>Client <input name="client" value="${client}" placeholder="client id"></label>
<label>Server <input name="server" value="${server}" placeholder="name or resource URL"></label>
<label><input type="checkbox" name="revoked" value="1"${withRevoked ? html` checked` : ''}> Include revoked</label>
<button type="submit">Search</button>
</form>`;
  const body = html`${form}
${
  shown.length
    ? html`<div class="table-wrap"><table>
<thead><tr><th>User</th><th>Client</th><th>Server</th><th>Scope</th><th>Created</th><th>Last used</th><th>Actions</th></tr></thead>
<tbody>${rows}</tbody></table></div>
${grants.length > MAX_ROWS ? html`<p>Showing ${MAX_ROWS} of ${grants.length}: narrow the search to see the rest.</p>` : ''}`
    : html`<p>No grants match.</p>`
}`;
  const query = params;
  const notice = query.has('revoked_grant')
    ? 'Grant revoked. Its tokens are refused from their next use.'
    : query.has('narrowed')
      ? 'Grant narrowed. Its tokens carry at most the remaining scopes from their next use.'
      : undefined;
  const csrf = adminCsrf(ctx, request);
  return adminPage(ctx, {
    title: 'Grants',
    active: 'grants',
    body,
    csrf: csrf.token,
    setCookie: csrf.setCookie,
    notice,
  });
}

function grantRow(g: GrantRecord, names: Map<string, string>): SafeHtml {
  const who = names.get(g.subject) ?? (g.subject === g.client_id ? '(the client itself)' : g.subject);
  const id = encodeURIComponent(g.id);
  const actions =
    g.revoked_at === undefined
      ? html`<a class="button secondary" href="${NARROW_PATH}?grant=${id}">Narrow</a>
<a class="button secondary" href="${REVOKE_PATH}?grant=${id}">Revoke</a>`
      : html`<span class="badge warn">Revoked ${utcTime(g.revoked_at)}</span>`;
  return html`<tr data-grant="${g.id}"><td>${who}</td><td><code>${g.client_id}</code></td><td>${g.resource}</td>
<td><code>${g.scope}</code></td><td>${utcTime(g.created_at)}</td><td>${utcTime(g.last_used_at)}</td>
<td class="actions">${actions}</td></tr>`;
}

const notFound = () =>
  page(errorPage('Not found', 'There is no live grant with this id. It may have been revoked already.'), 404);

/** The live grant a request names (`grant` in the query or the form), with its user's name. */
async function liveGrant(ctx: Context, id: string | null | undefined) {
  const grant = id ? await ctx.store.getGrant(id) : undefined;
  if (!grant || grant.revoked_at !== undefined) return undefined;
  const user: UserRecord | undefined = await ctx.store.getUser(grant.subject);
  return { grant, who: user?.username ?? grant.subject };
}

function revokeQuestion(ctx: Context, request: Request, grant: GrantRecord, who: string): Response {
  const csrf = adminCsrf(ctx, request);
  return confirmPage(ctx, {
    title: 'Revoke grant',
    question: `Revoke what ${who} allowed ${grant.client_id} to do on ${grant.resource} (${grant.scope})? Its tokens are refused from their next use, and the application must ask ${who} again.`,
    action: REVOKE_PATH,
    csrf: csrf.token,
    setCookie: csrf.setCookie,
    fields: { grant: grant.id },
    cancel: GRANTS_PATH,
  });
}

/** `GET /admin/grants/revoke?grant=ID`: the confirmation. */
async function askRevoke(ctx: Context, request: Request): Promise<Response> {
  const admin = await requireAdmin(ctx, request);
  if (admin instanceof Response) return admin;
  const found = await liveGrant(ctx, new URL(request.url).searchParams.get('grant'));
  if (!found) return notFound();
  return revokeQuestion(ctx, request, found.grant, found.who);
}

/** `POST /admin/grants/revoke` with `confirm=yes`: revokes at once, audited with the admin as actor. */
async function revoke(ctx: Context, request: Request): Promise<Response> {
  const posted = await adminForm(ctx, request);
  if (posted instanceof Response) return posted;
  const found = await liveGrant(ctx, posted.form.get('grant'));
  if (!found) return notFound();
  if (!confirmed(posted.form)) return revokeQuestion(ctx, request, found.grant, found.who);
  await revokeGrantAndConsent(ctx, found.grant, 'revoked by admin', posted.admin.id);
  return redirect(`${GRANTS_PATH}?revoked_grant`);
}

/** `GET /admin/grants/narrow?grant=ID`: one checkbox per scope the grant holds, all ticked. */
async function showNarrow(ctx: Context, request: Request): Promise<Response> {
  const admin = await requireAdmin(ctx, request);
  if (admin instanceof Response) return admin;
  const found = await liveGrant(ctx, new URL(request.url).searchParams.get('grant'));
  if (!found) return notFound();
  const { grant, who } = found;
  const boxes = parseScope(grant.scope).map(
    (s) => html`<label><input type="checkbox" name="scope" value="${s}" checked> <code>${s}</code></label>`,
  );
  const csrf = adminCsrf(ctx, request);
  const body = html`<p>${who} allowed <code>${grant.client_id}</code> on ${grant.resource}. Untick what it should no longer do;
you will be asked to confirm.</p>
<form method="post" action="${NARROW_PATH}">
<input type="hidden" name="csrf" value="${csrf.token}">
<input type="hidden" name="grant" value="${grant.id}">
<fieldset><legend>Scopes kept</legend>${boxes}</fieldset>
<button type="submit">Continue</button>
<a class="button secondary" href="${GRANTS_PATH}">Cancel</a>
</form>`;
  return adminPage(ctx, {
    title: 'Narrow grant',
    active: 'grants',
    body,
    csrf: csrf.token,
    setCookie: csrf.setCookie,
  });
}

/**
 * `POST /admin/grants/narrow`: without `confirm=yes`, the confirmation naming what is removed;
 * with it, the grant keeps only the ticked scopes it held (never more: the store intersects).
 * Keeping nothing, or only `offline_access` (no permission on the resource), is revoking, and is
 * confirmed as such.
 */
async function narrow(ctx: Context, request: Request): Promise<Response> {
  // One `scope` field per ticked checkbox, read as one space-delimited scope (RFC 6749 §3.3).
  const posted = await adminForm(ctx, request, { joined: ['scope'] });
  if (posted instanceof Response) return posted;
  const found = await liveGrant(ctx, posted.form.get('grant'));
  if (!found) return notFound();
  const { grant, who } = found;
  const held = parseScope(grant.scope);
  const ticked = new Set(parseScope(posted.form.get('scope')));
  const kept = held.filter((s) => ticked.has(s));
  const removed = held.filter((s) => !ticked.has(s));
  if (kept.every((s) => s === 'offline_access')) return revokeQuestion(ctx, request, grant, who);
  if (removed.length === 0) return redirect(GRANTS_PATH);
  if (!confirmed(posted.form)) {
    const csrf = adminCsrf(ctx, request);
    return confirmPage(ctx, {
      title: 'Narrow grant',
      question: `${grant.client_id} will no longer be able to use ${formatScope(removed)} for ${who} on ${grant.resource}, from its next request. It keeps ${formatScope(kept)}.`,
      action: NARROW_PATH,
      csrf: csrf.token,
      setCookie: csrf.setCookie,
      fields: { grant: grant.id, scope: formatScope(kept) },
      cancel: GRANTS_PATH,
    });
  }
  if ((await narrowGrantTo(ctx, grant, kept, posted.admin.id)) === undefined) return notFound();
  return redirect(`${GRANTS_PATH}?narrowed`);
}

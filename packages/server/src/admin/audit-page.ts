import type { Router } from '@gatehouse/core';
import type { Context } from '../context.ts';
import { html, type SafeHtml } from '../interaction/html.ts';
import type { AuditEvent } from '../store/types.ts';
import { exportAudit } from './audit-export.ts';
import {
  AUDIT_OUTCOMES,
  type AuditFilterField,
  auditFilters,
  auditQueryOf,
  auditSearch,
} from './audit-filter.ts';
import { adminCsrf, requireAdmin } from './auth.ts';
import { adminPage } from './layout.ts';
import { utcTime } from './time.ts';

export const AUDIT_PATH = '/admin/audit';
export const AUDIT_EXPORT_PATH = '/admin/audit.jsonl';
const PAGE_SIZE = 100;
const FOLLOW_SIZE = 50;
/** Seconds between reloads of the follow view (a `Refresh` header: live without script). */
export const FOLLOW_REFRESH_SECONDS = 5;

/** `/admin/audit` (the trail, filtered, paged or followed live) and `/admin/audit.jsonl` (export). */
export function addAuditRoutes(router: Router, ctx: Context): void {
  router
    .add(AUDIT_PATH, { GET: (request) => showAudit(ctx, request) }, { page: true })
    .add(AUDIT_EXPORT_PATH, { GET: (request) => exportAudit(ctx, request) }, { page: true });
}

/**
 * `GET /admin/audit`: the audit trail, newest first, filtered by user, client, server, tool,
 * outcome, type and time, a page at a time (`before` = the last id shown). With `follow=1` it
 * shows the newest events and reloads itself every 5 s (CSP forbids script; the HTML `Refresh`
 * header needs none). The same filters export as JSON lines.
 */
export async function showAudit(ctx: Context, request: Request): Promise<Response> {
  const admin = await requireAdmin(ctx, request);
  if (admin instanceof Response) return admin;
  const params = new URL(request.url).searchParams;
  const filters = auditFilters(params);
  const follow = params.get('follow') === '1';
  const before = Number(params.get('before'));
  const query = await auditQueryOf(ctx, filters);
  const events = await ctx.store.queryAudit({
    ...query,
    before: !follow && Number.isSafeInteger(before) && before > 0 ? before : undefined,
    limit: follow ? FOLLOW_SIZE : PAGE_SIZE,
  });
  const names = new Map((await ctx.store.listUsers()).map((u) => [u.id, u.username]));
  const last = events.at(-1)?.id;
  const links = html`<p class="actions">
${
  follow
    ? html`<a class="button secondary" href="${AUDIT_PATH}${auditSearch(filters)}">Stop following</a>`
    : html`<a class="button secondary" href="${AUDIT_PATH}${auditSearch(filters, { follow: '1' })}">Follow live</a>`
}
<a class="button secondary" href="${AUDIT_EXPORT_PATH}${auditSearch(filters)}" download>Export as JSON lines</a>
</p>`;
  const older =
    !follow && last !== undefined && events.length === PAGE_SIZE
      ? html`<p><a href="${AUDIT_PATH}${auditSearch(filters, { before: String(last) })}">Older events</a></p>`
      : '';
  const body = html`${filterForm(filters)}
${links}
${follow ? html`<p role="status">Following: the newest ${FOLLOW_SIZE} events, reloaded every ${FOLLOW_REFRESH_SECONDS} seconds.</p>` : ''}
${events.length ? eventTable(events, names) : html`<p>No events match.</p>`}
${older}`;
  const csrf = adminCsrf(ctx, request);
  const response = adminPage(ctx, {
    title: 'Audit trail',
    active: 'audit',
    body,
    csrf: csrf.token,
    setCookie: csrf.setCookie,
  });
  if (follow) response.headers.set('refresh', String(FOLLOW_REFRESH_SECONDS));
  return response;
}

/** A GET form (read-only: no CSRF token needed), refilled with the current filters. */
function filterForm(filters: Map<AuditFilterField, string>): SafeHtml {
  const field = (name: AuditFilterField, label: string, hint = '') =>
    html`<label>${label} <input name="${name}" value="${filters.get(name) ?? ''}" placeholder="${hint}"></label>`;
  const outcome = filters.get('outcome');
  const options = AUDIT_OUTCOMES.map(
    (o) => html`<option value="${o}"${o === outcome ? html` selected` : ''}>${o}</option>`,
  );
  const time = (name: 'from' | 'to', label: string) =>
    html`<label>${label} <input type="datetime-local" name="${name}" value="${filters.get(name) ?? ''}"></label>`;
  return html`<form method="get" action="${AUDIT_PATH}" class="search" aria-label="Filter the audit trail">
${field('user', 'User', 'username')}
${field('client', 'Client', 'client id')}
${field('server', 'Server', 'gateway server')}
${field('tool', 'Tool')}
<label>Outcome <select name="outcome"><option value="">any</option>${options}</select></label>
${field('type', 'Event', 'e.g. mcp.call')}
${time('from', 'From (UTC)')}
${time('to', 'Until (UTC)')}
<button type="submit">Filter</button>
</form>`;
}

function eventTable(events: readonly AuditEvent[], names: Map<string, string>): SafeHtml {
  const rows = events.map((e) => {
    const detail = e.detail ?? {};
    const text = (key: string) => (typeof detail[key] === 'string' ? (detail[key] as string) : '');
    const user = e.user_id === undefined ? '' : (names.get(e.user_id) ?? e.user_id);
    const actor = e.actor === undefined ? '' : (names.get(e.actor) ?? e.actor);
    return html`<tr data-event="${e.id ?? ''}">
<td>${utcTime(e.at)}</td><td><code>${e.type}</code></td><td>${user}</td><td>${e.client_id ?? ''}</td>
<td>${text('server')}</td><td>${text('name')}</td><td>${text('outcome')}</td>
<td>${actor}</td><td><code>${e.detail ? JSON.stringify(e.detail) : ''}</code></td>
</tr>`;
  });
  return html`<div class="table-wrap"><table>
<thead><tr><th>Time</th><th>Event</th><th>User</th><th>Client</th><th>Server</th><th>Tool</th><th>Outcome</th><th>By</th><th>Detail</th></tr></thead>
<tbody>${rows}</tbody>
</table></div>`;
}

import type { RequestInfo, Router } from '@gatehouse/core';
import type { Context } from '../context.ts';
import { html } from '../interaction/html.ts';
import { redirect } from '../interaction/responses.ts';
import type { ClientKind, ClientRecord, UserRecord } from '../store/types.ts';
import { adminCsrf, adminForm, confirmed, requireAdmin } from './auth.ts';
import { adminPage, confirmPage } from './layout.ts';
import { ADMIN_HOME } from './return-path.ts';
import { utcTime } from './time.ts';

export const CLIENTS_PATH = `${ADMIN_HOME}/clients`;

const HOW_REGISTERED = new Map<ClientKind, string>([
  ['preregistered', 'Pre-registered'],
  ['dcr', 'Dynamic registration (DCR)'],
  ['cimd', 'Metadata document (CIMD)'],
]);

/**
 * The host a Client ID Metadata Document client was fetched from: the registry verified that its
 * document sits at this https URL (its client_id), so the host is who vouches for it.
 */
export function cimdHost(client: ClientRecord): string | undefined {
  if (client.kind !== 'cimd') return undefined;
  try {
    return new URL(client.client_id).hostname;
  } catch {
    return undefined;
  }
}

/** What an action on clients acts on: a registered client, or a CIMD host (which may have none left). */
type Target = { kind: 'client'; client: ClientRecord } | { kind: 'host'; host: string };

interface ClientAction {
  field: 'client' | 'host';
  question?: (target: Target) => string;
  run(ctx: Context, target: Target, admin: UserRecord): Promise<void>;
  /** Audited as `admin.<audit>` with the acting admin as actor; also the notice's key. */
  audit: string;
}

const nameOf = (t: Target) =>
  t.kind === 'client' ? `${t.client.client_name} (${t.client.client_id})` : t.host;

/** A Map keyed by the path's `:action`, so a name from the request never reaches a plain object. */
const ACTIONS = new Map<string, ClientAction>([
  [
    'remove',
    {
      field: 'client',
      question: (t) =>
        `Remove ${nameOf(t)}? Every grant it holds is revoked: its tokens stop working at their next use. A client that registered itself (DCR, CIMD) can register again; block it to keep it out.`,
      async run(ctx, t, admin) {
        if (t.kind !== 'client') return;
        // Removed first, so it can obtain no new grant; then every grant it holds is revoked.
        await ctx.store.deleteClient(t.client.client_id);
        ctx.clients.forget(t.client.client_id);
        for (const grant of await ctx.store.listGrants({ client_id: t.client.client_id })) {
          await ctx.revokeGrant(grant.id, 'client removed', admin.id);
        }
      },
      audit: 'client_removed',
    },
  ],
  [
    'block',
    {
      field: 'client',
      question: (t) =>
        `Block ${nameOf(t)}? From its next request it can get no token (invalid_client), no sign-in page and no introspection answer. Access tokens it already holds keep working at resource servers until they expire (at most an hour); revoke its grants to end them now.`,
      async run(ctx, t) {
        if (t.kind !== 'client') return;
        await ctx.store.setClientBlocked(t.client.client_id, true);
        ctx.clients.forget(t.client.client_id);
      },
      audit: 'client_blocked',
    },
  ],
  [
    'unblock',
    {
      field: 'client',
      async run(ctx, t) {
        if (t.kind !== 'client') return;
        await ctx.store.setClientBlocked(t.client.client_id, false);
        ctx.clients.forget(t.client.client_id);
      },
      audit: 'client_unblocked',
    },
  ],
  [
    'block-host',
    {
      field: 'host',
      question: (t) =>
        `Block the host ${nameOf(t)}? Every client whose metadata document is on it is refused from its next request, and Gatehouse no longer fetches documents from it.`,
      async run(ctx, t, admin) {
        if (t.kind !== 'host') return;
        await ctx.store.blockHost({ host: t.host, blocked_at: ctx.now(), blocked_by: admin.id });
        ctx.clients.forget();
      },
      audit: 'host_blocked',
    },
  ],
  [
    'unblock-host',
    {
      field: 'host',
      async run(ctx, t) {
        if (t.kind !== 'host') return;
        await ctx.store.unblockHost(t.host);
        ctx.clients.forget();
      },
      audit: 'host_unblocked',
    },
  ],
]);

const NOTICES = new Map([
  ['client_removed', 'Client removed, and every grant it held revoked.'],
  ['client_blocked', 'Client blocked: it is refused from its next request.'],
  ['client_unblocked', 'Client unblocked.'],
  ['host_blocked', 'Host blocked: its metadata documents are refused from the next request.'],
  ['host_unblocked', 'Host unblocked.'],
]);

/** `GET /admin/clients` and `GET|POST /admin/clients/:action` (confirm, act). */
export function addClientsRoutes(router: Router, ctx: Context): void {
  router.add(CLIENTS_PATH, { GET: (request) => showClients(ctx, request) }, { page: true }).add(
    `${CLIENTS_PATH}/:action`,
    {
      GET: (request, info) => confirmClientAction(ctx, request, info),
      POST: (request, info) => submitClientAction(ctx, request, info),
    },
    { page: true },
  );
}

/** `GET /admin/clients`: every client, how it registered, when last used; the blocked hosts. */
async function showClients(ctx: Context, request: Request): Promise<Response> {
  const admin = await requireAdmin(ctx, request);
  if (admin instanceof Response) return admin;
  const csrf = adminCsrf(ctx, request);
  const [clients, lastUsed, blockedHosts] = await Promise.all([
    ctx.store.listClients(),
    ctx.store.clientsLastUsed(),
    ctx.store.listBlockedHosts(),
  ]);
  const blocked = new Set(blockedHosts.map((h) => h.host));
  const post = (action: string, field: string, value: string, label: string) =>
    html`<form method="post" action="${CLIENTS_PATH}/${action}"><input type="hidden" name="csrf" value="${csrf.token}"><input type="hidden" name="${field}" value="${value}"><button type="submit">${label}</button></form>`;
  const ask = (action: string, field: string, value: string, label: string) =>
    html`<a class="button secondary" href="${CLIENTS_PATH}/${action}?${field}=${encodeURIComponent(value)}">${label}</a>`;
  const rows = clients.map((c) => {
    const host = cimdHost(c);
    const hostBlocked = host !== undefined && blocked.has(host);
    const actions = [
      c.kind === 'dcr'
        ? c.blocked
          ? post('unblock', 'client', c.client_id, 'Unblock')
          : ask('block', 'client', c.client_id, 'Block')
        : '',
      host && !hostBlocked ? ask('block-host', 'host', host, 'Block host') : '',
      ask('remove', 'client', c.client_id, 'Remove'),
    ];
    return html`<tr>
<td>${c.client_name}<br><code>${c.client_id}</code></td>
<td>${HOW_REGISTERED.get(c.kind) ?? c.kind}${host ? html`<br><span class="verified">verified host: ${host}</span>` : ''}</td>
<td>${lastUsed.has(c.client_id) ? utcTime(lastUsed.get(c.client_id)) : 'never'}</td>
<td>${c.blocked || hostBlocked ? html`<span class="badge warn">blocked${hostBlocked ? ' (host)' : ''}</span>` : 'active'}</td>
<td><div class="actions">${actions}</div></td>
</tr>`;
  });
  const hostRows = blockedHosts.map(
    (h) => html`<tr><td>${h.host}</td><td>${utcTime(h.blocked_at)}</td>
<td><div class="actions">${post('unblock-host', 'host', h.host, 'Unblock')}</div></td></tr>`,
  );
  const body = html`${
    clients.length === 0
      ? html`<p>No clients yet.</p>`
      : html`<div class="table-wrap"><table>
<thead><tr><th scope="col">Client</th><th scope="col">How it registered</th><th scope="col">Last used</th><th scope="col">Status</th><th scope="col">Actions</th></tr></thead>
<tbody>${rows}</tbody>
</table></div>`
  }
<h2>Blocked metadata-document hosts</h2>
<form method="get" action="${CLIENTS_PATH}/block-host" class="search">
<label>Block a host <input name="host" placeholder="apps.example.com" required></label>
<button type="submit">Block…</button>
</form>
${
  blockedHosts.length === 0
    ? html`<p>No host is blocked.</p>`
    : html`<div class="table-wrap"><table>
<thead><tr><th scope="col">Host</th><th scope="col">Blocked</th><th scope="col">Actions</th></tr></thead>
<tbody>${hostRows}</tbody>
</table></div>`
}`;
  const done = new URL(request.url).searchParams.get('done');
  return adminPage(ctx, {
    title: 'Clients',
    active: 'clients',
    body,
    csrf: csrf.token,
    setCookie: csrf.setCookie,
    notice: done === null ? undefined : NOTICES.get(done),
  });
}

/**
 * A host name as the registry compares it (the URL parser's lowercase, IDNA form), or undefined
 * when `value` is not a bare host name.
 */
function normalizeHost(value: string): string | undefined {
  if (!/^[A-Za-z0-9.-]{1,253}$/.test(value)) return undefined;
  try {
    const host = new URL(`https://${value}/`).hostname;
    return host === value.toLowerCase() ? host : undefined;
  } catch {
    return undefined;
  }
}

/** The action and what it acts on, or undefined (a 404) when either does not exist. */
async function target(ctx: Context, info: RequestInfo, read: (field: string) => string | null | undefined) {
  const action = ACTIONS.get(info.params.get('action') ?? '');
  if (!action) return undefined;
  const value = read(action.field) ?? '';
  if (action.field === 'host') {
    const host = normalizeHost(value);
    return host ? { action, target: { kind: 'host', host } as Target } : undefined;
  }
  const client = value ? await ctx.store.getClient(value) : undefined;
  return client ? { action, target: { kind: 'client', client } as Target } : undefined;
}

const notFound = (ctx: Context, csrf: string) =>
  adminPage(ctx, {
    title: 'Not found',
    active: 'clients',
    body: html`<p class="error" role="alert">There is no such client, host or action. <a href="${CLIENTS_PATH}">Back to clients</a></p>`,
    csrf,
    status: 404,
  });

/** `GET /admin/clients/:action?client=ID|host=NAME`: the confirmation page of a destructive action. */
async function confirmClientAction(ctx: Context, request: Request, info: RequestInfo): Promise<Response> {
  const admin = await requireAdmin(ctx, request);
  if (admin instanceof Response) return admin;
  const csrf = adminCsrf(ctx, request);
  const query = new URL(request.url).searchParams;
  const found = await target(ctx, info, (field) => query.get(field));
  if (!found?.action.question) return notFound(ctx, csrf.token);
  const { action, target: t } = found;
  return confirmPage(ctx, {
    title: 'Please confirm',
    question: action.question?.(t) ?? '',
    action: `${CLIENTS_PATH}/${info.params.get('action')}`,
    csrf: csrf.token,
    setCookie: csrf.setCookie,
    fields: t.kind === 'client' ? { client: t.client.client_id } : { host: t.host },
  });
}

/**
 * `POST /admin/clients/:action`: with the CSRF token (and `confirm=yes` for a destructive action)
 * performs it, audited with the acting admin as `actor`, and answers 303 to the list.
 */
async function submitClientAction(ctx: Context, request: Request, info: RequestInfo): Promise<Response> {
  const posted = await adminForm(ctx, request);
  if (posted instanceof Response) return posted;
  const { admin, form } = posted;
  const found = await target(ctx, info, (field) => form.get(field));
  if (!found) return notFound(ctx, adminCsrf(ctx, request).token);
  const { action, target: t } = found;
  if (action.question && !confirmed(form)) {
    const [field, value] = t.kind === 'client' ? ['client', t.client.client_id] : ['host', t.host];
    return redirect(`${CLIENTS_PATH}/${info.params.get('action')}?${field}=${encodeURIComponent(value)}`);
  }
  await action.run(ctx, t, admin);
  ctx.audit({
    type: `admin.${action.audit}`,
    actor: admin.id,
    client_id: t.kind === 'client' ? t.client.client_id : undefined,
    detail: t.kind === 'host' ? { host: t.host } : { client_name: t.client.client_name },
  });
  return redirect(`${CLIENTS_PATH}?done=${action.audit}`);
}

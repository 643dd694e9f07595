import type { RequestInfo, Router } from '@gatehouse/core';
import type { Context } from '../context.ts';
import { html } from '../interaction/html.ts';
import { redirect } from '../interaction/responses.ts';
import type { UserRecord } from '../store/types.ts';
import { deactivateUser } from '../users/deactivate.ts';
import type { Vault } from '../vault/vault.ts';
import { adminCsrf, adminForm, confirmed, requireAdmin } from './auth.ts';
import { adminPage, confirmPage } from './layout.ts';
import { ADMIN_HOME } from './return-path.ts';
import { utcTime } from './time.ts';

export const USERS_PATH = `${ADMIN_HOME}/users`;

/**
 * One action on a user: what the confirmation asks (none for enabling, which only gives back
 * what an administrator took), what it does, and the notice afterwards. A Map keyed by the path's
 * `:action`, so a name from the request never reaches a plain object.
 */
interface UserAction {
  question?: (user: UserRecord) => string;
  run(ctx: Context, user: UserRecord, admin: UserRecord, vault: Vault): Promise<void>;
  done: string;
  /** An administrator cannot do this to their own account (no locking oneself out). */
  notOnSelf: boolean;
}

const ACTIONS = new Map<string, UserAction>([
  [
    'disable',
    {
      question: (u) =>
        `Disable ${u.username}? They are signed out everywhere, cannot sign in, and every application they allowed loses access at its next request. You can enable them again later, but their grants stay revoked.`,
      run: (ctx, user, admin, vault) => deactivate(ctx, vault, user, admin, 'disabled'),
      done: 'disabled',
      notOnSelf: true,
    },
  ],
  [
    'enable',
    {
      run: async (ctx, user) => void (await ctx.store.setUserDisabled(user.id, false)),
      done: 'enabled',
      notOnSelf: false,
    },
  ],
  [
    'remove',
    {
      question: (u) =>
        `Remove ${u.username}? Their account is deleted, they are signed out everywhere and every application they allowed loses access at its next request. This cannot be undone.`,
      run: (ctx, user, admin, vault) => deactivate(ctx, vault, user, admin, 'removed'),
      done: 'removed',
      notOnSelf: true,
    },
  ],
  [
    'promote',
    {
      question: (u) => `Make ${u.username} an administrator? They can then use this console, for every user.`,
      run: async (ctx, user) => void (await ctx.store.setUserAdmin(user.id, true)),
      done: 'promoted',
      notOnSelf: false,
    },
  ],
  [
    'demote',
    {
      question: (u) =>
        `Take the administrator role from ${u.username}? They can no longer open this console.`,
      run: async (ctx, user) => void (await ctx.store.setUserAdmin(user.id, false)),
      done: 'demoted',
      notOnSelf: true,
    },
  ],
]);

const NOTICES = new Map([
  ['disabled', 'User disabled: signed out, and every grant revoked.'],
  ['enabled', 'User enabled: they can sign in again.'],
  ['removed', 'User removed, and every grant revoked.'],
  ['promoted', 'The user is now an administrator.'],
  ['demoted', 'The user is no longer an administrator.'],
  ['self', 'You cannot do that to your own account: ask another administrator.'],
]);

async function deactivate(
  ctx: Context,
  vault: Vault,
  user: UserRecord,
  admin: UserRecord,
  how: 'disabled' | 'removed',
): Promise<void> {
  await deactivateUser(
    ctx.store,
    user,
    how,
    (grantId) => ctx.revokeGrant(grantId, `user ${how}`, admin.id),
    (provider) => vault.remove(user.id, provider),
  );
}

/** `GET /admin/users` (list, search) and `GET|POST /admin/users/:action` (confirm, act). */
export function addUsersRoutes(router: Router, ctx: Context, vault: Vault): void {
  router.add(USERS_PATH, { GET: (request) => showUsers(ctx, request) }, { page: true }).add(
    `${USERS_PATH}/:action`,
    {
      GET: (request, info) => confirmUserAction(ctx, request, info),
      POST: (request, info) => submitUserAction(ctx, vault, request, info),
    },
    { page: true },
  );
}

/** `GET /admin/users?q=`: every user, or those whose name contains `q` (any case). */
async function showUsers(ctx: Context, request: Request): Promise<Response> {
  const admin = await requireAdmin(ctx, request);
  if (admin instanceof Response) return admin;
  const csrf = adminCsrf(ctx, request);
  const query = new URL(request.url).searchParams;
  const q = (query.get('q') ?? '').trim();
  const users = (await ctx.store.listUsers()).filter((u) =>
    u.username.toLowerCase().includes(q.toLowerCase()),
  );
  const grants = new Map<string, number>();
  for (const grant of await ctx.store.listGrants({})) {
    grants.set(grant.subject, (grants.get(grant.subject) ?? 0) + 1);
  }
  // Each user's identities at upstream providers (provider:subject, and the email they gave).
  const identities = new Map<string, string[]>();
  for (const i of await ctx.store.listIdentities()) {
    const label = `${i.provider}:${i.subject}${i.email ? ` (${i.email})` : ''}`;
    identities.set(i.user_id, [...(identities.get(i.user_id) ?? []), label]);
  }
  const rows = users.map((u) => {
    const n = grants.get(u.id) ?? 0;
    const link = (action: string, label: string) =>
      html`<a class="button secondary" href="${USERS_PATH}/${action}?user=${encodeURIComponent(u.id)}">${label}</a>`;
    const actions = [
      u.disabled
        ? html`<form method="post" action="${USERS_PATH}/enable"><input type="hidden" name="csrf" value="${csrf.token}"><input type="hidden" name="user" value="${u.id}"><button type="submit">Enable</button></form>`
        : link('disable', 'Disable'),
      u.admin ? link('demote', 'Demote') : link('promote', 'Make admin'),
      link('remove', 'Remove'),
    ];
    return html`<tr>
<td>${u.username}${u.admin ? html` <span class="badge">admin</span>` : ''}${u.id === admin.id ? html` <span class="badge">you</span>` : ''}</td>
<td>${u.disabled ? html`<span class="badge warn">disabled</span>` : 'active'}</td>
<td>${utcTime(u.created_at)}</td>
<td><a href="${ADMIN_HOME}/grants?user=${encodeURIComponent(u.username)}">${n} ${n === 1 ? 'grant' : 'grants'}</a></td>
<td>${(identities.get(u.id) ?? ['none']).join(', ')}</td>
<td><div class="actions">${actions}</div></td>
</tr>`;
  });
  const body = html`<form method="get" action="${USERS_PATH}" class="search" role="search">
<label>Search by name <input name="q" value="${q}" type="search"></label>
<button type="submit">Search</button>
</form>
${
  users.length === 0
    ? html`<p>${q ? 'No user name contains that.' : 'No users yet: add one with gatehouse users add NAME --password-stdin.'}</p>`
    : html`<div class="table-wrap"><table>
<thead><tr><th scope="col">User</th><th scope="col">Status</th><th scope="col">Created</th><th scope="col">Grants</th><th scope="col">Linked identities</th><th scope="col">Actions</th></tr></thead>
<tbody>${rows}</tbody>
</table></div>`
}`;
  const done = query.get('done');
  return adminPage(ctx, {
    title: 'Users',
    active: 'users',
    body,
    csrf: csrf.token,
    setCookie: csrf.setCookie,
    notice: done === null ? undefined : NOTICES.get(done),
  });
}

/** The action and user a request names, or undefined (a 404) when either does not exist. */
async function target(ctx: Context, info: RequestInfo, userId: string | undefined | null) {
  const action = ACTIONS.get(info.params.get('action') ?? '');
  const user = userId ? await ctx.store.getUser(userId) : undefined;
  return action && user ? { action, user } : undefined;
}

const notFound = (ctx: Context, csrf: string) =>
  adminPage(ctx, {
    title: 'Not found',
    active: 'users',
    body: html`<p class="error" role="alert">There is no such user or action. <a href="${USERS_PATH}">Back to users</a></p>`,
    csrf,
    status: 404,
  });

/** `GET /admin/users/:action?user=ID`: the confirmation page of a destructive action. */
async function confirmUserAction(ctx: Context, request: Request, info: RequestInfo): Promise<Response> {
  const admin = await requireAdmin(ctx, request);
  if (admin instanceof Response) return admin;
  const csrf = adminCsrf(ctx, request);
  const found = await target(ctx, info, new URL(request.url).searchParams.get('user'));
  if (!found?.action.question) return notFound(ctx, csrf.token);
  return confirmPage(ctx, {
    title: 'Please confirm',
    question: found.action.question(found.user),
    action: `${USERS_PATH}/${info.params.get('action')}`,
    csrf: csrf.token,
    setCookie: csrf.setCookie,
    fields: { user: found.user.id },
  });
}

/**
 * `POST /admin/users/:action`: with the CSRF token (and `confirm=yes` for a destructive action)
 * performs it, audited with the acting admin as `actor`, and answers 303 to the list.
 */
async function submitUserAction(
  ctx: Context,
  vault: Vault,
  request: Request,
  info: RequestInfo,
): Promise<Response> {
  const posted = await adminForm(ctx, request);
  if (posted instanceof Response) return posted;
  const { admin, form } = posted;
  const found = await target(ctx, info, form.get('user'));
  if (!found) return notFound(ctx, adminCsrf(ctx, request).token);
  const { action, user } = found;
  // Without the confirmation page's `confirm=yes`, a destructive action only asks.
  if (action.question && !confirmed(form)) {
    return redirect(`${USERS_PATH}/${info.params.get('action')}?user=${encodeURIComponent(user.id)}`);
  }
  if (action.notOnSelf && user.id === admin.id) return redirect(`${USERS_PATH}?done=self`);
  await action.run(ctx, user, admin, vault);
  ctx.audit({
    type: `admin.user_${action.done}`,
    actor: admin.id,
    user_id: user.id,
    detail: { username: user.username },
  });
  return redirect(`${USERS_PATH}?done=${action.done}`);
}

import type { Context } from '../context.ts';
import { readForm } from '../http/form.ts';
import { LOGIN_PATH } from '../interaction/account.ts';
import { errorPage } from '../interaction/pages.ts';
import { page, redirect } from '../interaction/responses.ts';
import type { UserRecord } from '../store/types.ts';
import { ADMIN_HOME, adminReturnPath } from './return-path.ts';

/** The CSRF purpose of every admin form: a token from another page (account, sign-in) is refused. */
export const ADMIN_CSRF_PURPOSE = 'admin';
/** `/login?return=…`, the same sign-in as everywhere, then back to the admin page asked for. */
function toLogin(request: Request): Response {
  const url = new URL(request.url);
  const back = adminReturnPath(`${url.pathname}${url.search}`) ?? ADMIN_HOME;
  return redirect(`${LOGIN_PATH}?return=${encodeURIComponent(back)}`);
}

/**
 * The signed-in admin, or a Response: 303 to /login for nobody, 403 page for a non-admin. Admin
 * sessions are shorter (config `adminSessionTtl`, default 1 h): older sessions are treated as
 * signed out for /admin (the user signs in again; the rest of the site keeps the session).
 */
export async function requireAdmin(ctx: Context, request: Request): Promise<UserRecord | Response> {
  const id = ctx.cookies.read(request, ctx.cookies.names.session);
  if (!id) return toLogin(request);
  const now = ctx.now();
  const session = await ctx.store.getSession(ctx.secrets.hash(id), now);
  if (!session || now - session.created_at >= ctx.config.adminSessionTtl) return toLogin(request);
  const user = await ctx.store.getUser(session.user_id);
  if (!user || user.disabled) return toLogin(request);
  if (user.admin !== true) {
    return page(errorPage('Not allowed', 'This page is for administrators only.'), 403);
  }
  return user;
}

/** The CSRF token for an admin page's forms, and the cookie to set when the browser has none. */
export function adminCsrf(ctx: Context, request: Request): { token: string; setCookie?: string } {
  return ctx.csrf.issue(request, ADMIN_CSRF_PURPOSE);
}

/**
 * An admin form post: the admin (as `requireAdmin`, so a non-admin gets 403 before anything is
 * read) and the form, whose CSRF token and origin are verified (a failure throws `invalid_request`).
 */
export async function adminForm(
  ctx: Context,
  request: Request,
  options: { joined?: readonly string[] } = {},
): Promise<{ admin: UserRecord; form: Map<string, string> } | Response> {
  const admin = await requireAdmin(ctx, request);
  if (admin instanceof Response) return admin;
  const form = await readForm(request, undefined, options);
  ctx.csrf.verify(request, form, ADMIN_CSRF_PURPOSE, ctx.issuerOrigin);
  return { admin, form };
}

/** Whether a destructive action's form carries the confirmation page's `confirm=yes`. */
export function confirmed(form: Map<string, string>): boolean {
  return form.get('confirm') === 'yes';
}

import { hasScope, parseScope, type Router } from '@gatehouse/core';
import { adminReturnPath } from '../admin/return-path.ts';
import type { Context } from '../context.ts';
import { signInChoices } from '../federation/buttons.ts';
import { readForm } from '../http/form.ts';
import type { GrantRecord, UserRecord } from '../store/types.ts';
import type { Vault } from '../vault/vault.ts';
import { appsPage, connectedApps, fixedScope } from './account/apps-page.ts';
import { narrowGrantTo, revokeGrantAndConsent } from './grant-changes.ts';
import { errorPage, loginPage } from './pages.ts';
import { page, redirect } from './responses.ts';
import { currentUser, startSession } from './session.ts';
import { checkCredentials } from './sign-in.ts';

/** Where a user manages what they have allowed; the standalone sign-in returns here. */
export const ACCOUNT_HOME = '/account/apps';
export const LOGIN_PATH = '/login';
/** CSRF purposes: one for the standalone sign-in form, one for every form of the account pages. */
const LOGIN_PURPOSE = 'login:account';
const ACCOUNT_PURPOSE = 'account';

/**
 * The account pages: `GET|POST /login` (standalone sign-in), `POST /logout`, `GET /account/apps`
 * (connected apps and connected accounts), `POST /account/apps/narrow`, `POST /account/apps/revoke`
 * and `POST /account/connections/remove`. Server-rendered,
 * no script; every form is CSRF-protected and every post answers with a 303 so a reload never
 * repeats it.
 */
export function addAccountRoutes(router: Router, ctx: Context, vault: Vault): void {
  const login = (request: Request) => showLogin(ctx, request);
  const apps = (request: Request) => showApps(ctx, vault, request);
  const page = { page: true };
  router
    .add(
      LOGIN_PATH,
      { GET: login, POST: (request, info) => submitAccountLogin(ctx, request, info.remoteAddress) },
      page,
    )
    .add('/logout', { POST: (request) => signOut(ctx, request) }, page)
    .add('/account', { GET: apps }, page)
    .add(ACCOUNT_HOME, { GET: apps }, page)
    .add('/account/apps/narrow', { POST: (request) => narrowApp(ctx, request) }, page)
    .add('/account/apps/revoke', { POST: (request) => revokeApp(ctx, request) }, page)
    .add('/account/connections/remove', { POST: (request) => removeConnection(ctx, vault, request) }, page);
}

/** Where the standalone sign-in returns to: an admin page that sent the browser here, or the account pages. */
function returnPath(request: Request): string | undefined {
  return adminReturnPath(new URL(request.url).searchParams.get('return') ?? undefined);
}

function loginForm(ctx: Context, request: Request, status = 200, error?: string, username?: string) {
  const csrf = ctx.csrf.issue(request, LOGIN_PURPOSE);
  const back = returnPath(request);
  const action = back ? `${LOGIN_PATH}?return=${encodeURIComponent(back)}` : LOGIN_PATH;
  const choices = signInChoices(ctx, { returnTo: back });
  return page(loginPage({ action, csrf: csrf.token, error, username, ...choices }), status, {
    'set-cookie': csrf.setCookie,
  });
}

/**
 * `GET /login`: the sign-in form, or straight to the account pages when already signed in. Sent
 * here by an admin page (`?return=/admin…`), the form shows even when signed in: the admin console
 * asks for a fresher sign-in than the rest of the site (`adminSessionTtl`).
 */
async function showLogin(ctx: Context, request: Request): Promise<Response> {
  if (!returnPath(request) && (await currentUser(ctx, request))) return redirect(ACCOUNT_HOME);
  return loginForm(ctx, request);
}

/** `POST /login`: the same checks as the authorization sign-in (rate limits, audit, CSRF). */
async function submitAccountLogin(ctx: Context, request: Request, remoteAddress?: string): Promise<Response> {
  const form = await readForm(request);
  ctx.csrf.verify(request, form, LOGIN_PURPOSE, ctx.issuerOrigin);
  const result = await checkCredentials(ctx, form, remoteAddress);
  if (!result.ok) return loginForm(ctx, request, result.status, result.error, result.username);
  return redirect(returnPath(request) ?? ACCOUNT_HOME, await startSession(ctx, result.user));
}

/** `POST /logout`: ends the session in the store (not only in this browser) and clears the cookie. */
async function signOut(ctx: Context, request: Request): Promise<Response> {
  const form = await readForm(request);
  ctx.csrf.verify(request, form, ACCOUNT_PURPOSE, ctx.issuerOrigin);
  const user = await currentUser(ctx, request);
  const id = ctx.cookies.read(request, ctx.cookies.names.session);
  if (id) await ctx.store.deleteSession(ctx.secrets.hash(id));
  if (user) await ctx.audit({ type: 'logout', user_id: user.id });
  return redirect(LOGIN_PATH, ctx.cookies.serialize(ctx.cookies.names.session, '', 0));
}

/** `GET /account/apps`: the applications the signed-in user has allowed. */
async function showApps(ctx: Context, vault: Vault, request: Request): Promise<Response> {
  const user = await currentUser(ctx, request);
  if (!user) return redirect(LOGIN_PATH);
  const csrf = ctx.csrf.issue(request, ACCOUNT_PURPOSE);
  const query = new URL(request.url).searchParams;
  const notice = query.has('revoked')
    ? 'Access revoked. The application can no longer use your account.'
    : query.has('narrowed')
      ? 'Permissions saved. The application can no longer do what you unticked, from its next request.'
      : query.has('removed')
        ? 'Account removed. Its tokens were revoked where the provider allows it, and deleted here.'
        : undefined;
  const body = appsPage({
    username: user.username,
    csrf: csrf.token,
    apps: await connectedApps(ctx, user),
    connections: await ctx.store.listConnections(user.id),
    connectable: vault.providers(),
    notice,
  });
  return page(body, 200, { 'set-cookie': csrf.setCookie });
}

/** `POST /account/apps/revoke`: revokes one of the user's own grants (see `revokeOwnGrant`). */
async function revokeApp(ctx: Context, request: Request): Promise<Response> {
  const form = await readForm(request);
  ctx.csrf.verify(request, form, ACCOUNT_PURPOSE, ctx.issuerOrigin);
  const user = await currentUser(ctx, request);
  if (!user) return redirect(LOGIN_PATH);
  const grant = await ctx.store.getGrant(form.get('grant') ?? '');
  // Someone else's grant gets the same answer as a missing one: nothing to learn by probing ids.
  if (!grant || grant.subject !== user.id) return notConnected();
  return revokeOwnGrant(ctx, user, grant);
}

const notConnected = () =>
  page(errorPage('Not found', 'This application is not connected to your account.'), 404);

/**
 * `POST /account/apps/narrow`: keeps only the ticked permissions of one of the user's own grants.
 * Guards learn of it as of a revocation (the in-process list at once, others by the feed), and
 * from the next request the grant's tokens carry at most what is left: a call needing a removed
 * scope gets 403 `insufficient_scope`, and refreshes issue no more than that. The remembered
 * consent loses the removed scopes, so asking for them again shows the consent screen. Unticking
 * every permission is revoking.
 */
async function narrowApp(ctx: Context, request: Request): Promise<Response> {
  // One `scope` field per ticked checkbox, read as one space-delimited scope (RFC 6749 §3.3).
  const form = await readForm(request, undefined, { joined: ['scope'] });
  ctx.csrf.verify(request, form, ACCOUNT_PURPOSE, ctx.issuerOrigin);
  const user = await currentUser(ctx, request);
  if (!user) return redirect(LOGIN_PATH);
  const grant = await ctx.store.getGrant(form.get('grant') ?? '');
  if (!grant || grant.subject !== user.id || grant.revoked_at !== undefined) return notConnected();
  const ticked = parseScope(form.get('scope'));
  const held = parseScope(grant.scope);
  // What has no checkbox stays (offline_access, required scopes); a scope the page folded under a
  // granted parent goes with it.
  const kept = held.filter((s) => fixedScope(ctx, s) !== undefined || hasScope(ticked, s));
  if (kept.every((s) => fixedScope(ctx, s) === 'renewal')) return revokeOwnGrant(ctx, user, grant);
  if ((await narrowGrantTo(ctx, grant, kept, user.id)) === undefined) return notConnected();
  return redirect(`${ACCOUNT_HOME}?narrowed`);
}

/** Revokes one of the user's own grants and forgets the consent (see `revokeGrantAndConsent`). */
async function revokeOwnGrant(ctx: Context, user: UserRecord, grant: GrantRecord): Promise<Response> {
  await revokeGrantAndConsent(ctx, grant, 'revoked by user', user.id);
  return redirect(`${ACCOUNT_HOME}?revoked`);
}

/**
 * `POST /account/connections/remove`: removes one of the user's own upstream connections through
 * the vault (which revokes its tokens upstream where it can), audited with the user as actor.
 */
async function removeConnection(ctx: Context, vault: Vault, request: Request): Promise<Response> {
  const form = await readForm(request);
  ctx.csrf.verify(request, form, ACCOUNT_PURPOSE, ctx.issuerOrigin);
  const user = await currentUser(ctx, request);
  if (!user) return redirect(LOGIN_PATH);
  const provider = form.get('provider') ?? '';
  // Only the signed-in user's own id reaches the vault: nobody removes someone else's connection.
  if (!(await vault.remove(user.id, provider))) {
    return page(errorPage('Not found', 'This account is not connected.'), 404);
  }
  ctx.audit({ type: 'connection.removed', user_id: user.id, actor: user.id, detail: { provider } });
  return redirect(`${ACCOUNT_HOME}?removed`);
}

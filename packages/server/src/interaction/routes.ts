import {
  errorRedirect,
  formatScope,
  missingScopes,
  OAuthError,
  OFFLINE_ACCESS,
  parseScope,
} from '@gatehouse/core';
import type { Context } from '../context.ts';
import {
  AuthorizationPageError,
  AuthorizationRedirectError,
  issueCode,
  loadPendingAuthorization,
  type PendingAuthorization,
  parseAuthorizationRequest,
  savePendingAuthorization,
} from '../endpoints/authorize.ts';
import { signInChoices } from '../federation/buttons.ts';
import { readForm } from '../http/form.ts';
import type { UserRecord } from '../store/types.ts';
import type { Vault } from '../vault/vault.ts';
import { approvedScope, consentChoices, grantsNothing } from './consent-choices.ts';
import { consentConnections } from './consent-connections.ts';
import { consentPage } from './consent-page.ts';
import { toolsOf } from './consent-tools.ts';
import { errorPage, formActionSource, loginPage } from './pages.ts';
import { page, redirect } from './responses.ts';
import { currentUser, startSession } from './session.ts';
import { checkCredentials } from './sign-in.ts';

const expired = () =>
  page(errorPage('This sign-in has expired', 'Return to the application and start again.'), 400);

/** What this user approved for this client and resource before (the union of their approvals). */
async function rememberedScope(
  ctx: Context,
  user: UserRecord,
  pending: PendingAuthorization,
): Promise<string[]> {
  const consent = await ctx.store.getConsent(user.id, pending.client_id, pending.resource);
  return parseScope(consent?.scope);
}

/** Whether the user's remembered consent covers every scope of this request. */
async function consentCovers(
  ctx: Context,
  user: UserRecord,
  pending: PendingAuthorization,
): Promise<boolean> {
  return missingScopes(await rememberedScope(ctx, user, pending), pending.scope).length === 0;
}

/** `GET|POST /oauth/authorize` (RFC 6749 §3.1). */
export async function authorizeEndpoint(ctx: Context, request: Request): Promise<Response> {
  let pending: PendingAuthorization;
  try {
    pending = await parseAuthorizationRequest(ctx, request);
  } catch (err) {
    if (err instanceof AuthorizationPageError) return page(errorPage(err.title, err.message), 400);
    if (err instanceof AuthorizationRedirectError) {
      return errorRedirect(err.redirectUri, err.error, { state: err.state, iss: ctx.config.issuer });
    }
    throw err;
  }
  const user = await currentUser(ctx, request);
  if (user && (await consentCovers(ctx, user, pending))) {
    await ctx.audit({ type: 'consent.reused', user_id: user.id, client_id: pending.client_id });
    return issueCode(ctx, pending, user.id);
  }
  const id = await savePendingAuthorization(ctx, pending);
  return redirect(`/interaction/${id}`);
}

/** `GET /interaction/:id`: the sign-in form, or the consent screen once signed in. */
export async function showInteraction(
  ctx: Context,
  vault: Vault,
  request: Request,
  id: string,
): Promise<Response> {
  const pending = await loadPendingAuthorization(ctx, id);
  if (!pending) return expired();
  const user = await currentUser(ctx, request);
  if (!user) {
    const csrf = ctx.csrf.issue(request, `login:${id}`);
    const choices = signInChoices(ctx, { interaction: id });
    return page(loginPage({ action: `/interaction/${id}/login`, csrf: csrf.token, ...choices }), 200, {
      'set-cookie': csrf.setCookie,
    });
  }
  return renderConsent(ctx, vault, request, id, pending, user);
}

async function renderConsent(
  ctx: Context,
  vault: Vault,
  request: Request,
  id: string,
  pending: PendingAuthorization,
  user: UserRecord,
  error?: string,
): Promise<Response> {
  const client = await ctx.clients.get(pending.client_id);
  const csrf = ctx.csrf.issue(request, `consent:${id}`);
  const redirect = new URL(pending.redirect_uri);
  const choices = consentChoices({
    requested: pending.scope,
    remembered: await rememberedScope(ctx, user, pending),
    catalogue: ctx.catalogue,
    policy: ctx.config.consent,
    tools: await toolsOf(ctx, pending.resource),
  });
  const body = consentPage({
    ...choices,
    action: `/interaction/${id}/consent`,
    csrf: csrf.token,
    clientName: client.client_name,
    verifiedDomain: client.kind === 'cimd' ? new URL(client.client_id).hostname : undefined,
    preregistered: client.kind === 'preregistered',
    // A private-use scheme has no host: name the scheme, i.e. the app that registered it.
    redirectHost: redirect.host || redirect.protocol,
    username: user.username,
    resource: pending.resource,
    connections: await consentConnections(ctx, vault, user.id, pending.resource, id),
    error,
  });
  // The consent form's answer redirects to the client, so its redirect URI must be a permitted form target.
  return page(body, error ? 400 : 200, { 'set-cookie': csrf.setCookie }, [
    formActionSource(pending.redirect_uri),
  ]);
}

/** `POST /interaction/:id/login`: checks the password, rate-limited per username and per address. */
export async function submitLogin(
  ctx: Context,
  request: Request,
  id: string,
  remoteAddress = 'unknown',
): Promise<Response> {
  const pending = await loadPendingAuthorization(ctx, id);
  if (!pending) return expired();
  const form = await readForm(request);
  ctx.csrf.verify(request, form, `login:${id}`, ctx.issuerOrigin);
  const result = await checkCredentials(ctx, form, remoteAddress);
  if (!result.ok) {
    const csrf = ctx.csrf.issue(request, `login:${id}`);
    return page(
      loginPage({
        action: `/interaction/${id}/login`,
        csrf: csrf.token,
        error: result.error,
        username: result.username,
        ...signInChoices(ctx, { interaction: id }),
      }),
      result.status,
      { 'set-cookie': csrf.setCookie },
    );
  }
  return redirect(`/interaction/${id}`, await startSession(ctx, result.user));
}

/**
 * `POST /interaction/:id/consent`: approve issues a code for exactly what the user ticked (plus
 * what they approved before, and required scopes); deny returns `access_denied`. An approval with
 * nothing ticked shows the page again, saying so: a mis-click should not end the sign-in.
 */
export async function submitConsent(
  ctx: Context,
  vault: Vault,
  request: Request,
  id: string,
): Promise<Response> {
  const pending = await loadPendingAuthorization(ctx, id);
  if (!pending) return expired();
  // One `scope` field per ticked checkbox, read as one space-delimited scope.
  const form = await readForm(request, undefined, { joined: ['scope'] });
  ctx.csrf.verify(request, form, `consent:${id}`, ctx.issuerOrigin);
  const user = await currentUser(ctx, request);
  if (!user) return redirect(`/interaction/${id}`);
  const approve = form.get('decision') === 'approve';
  const previous = parseScope(
    (await ctx.store.getConsent(user.id, pending.client_id, pending.resource))?.scope,
  );
  const scope = approvedScope({
    requested: pending.scope,
    remembered: previous,
    ticked: form.get('scope'),
    policy: ctx.config.consent,
  });
  if (approve && grantsNothing(scope)) {
    return renderConsent(
      ctx,
      vault,
      request,
      id,
      pending,
      user,
      'Choose at least one thing to allow, or choose Deny.',
    );
  }
  // Taken once, atomically: of parallel answers to one interaction (any instance) only one issues
  // a code; the others find it gone, as after any completed sign-in.
  if (!(await ctx.store.takeInteraction(id, ctx.now()))) return expired();
  const iss = ctx.config.issuer;
  if (!approve) {
    await ctx.audit({ type: 'consent.denied', user_id: user.id, client_id: pending.client_id });
    return errorRedirect(
      pending.redirect_uri,
      new OAuthError('access_denied', 'The user denied the request.'),
      {
        state: pending.state,
        iss,
      },
    );
  }
  // Remember the union of what this user ever approved for this client and resource: approving
  // `prompts:list` today must not forget yesterday's `tools:list` and ask for it again. What they
  // left unticked is not remembered, so the next request for it asks again.
  await ctx.store.saveConsent({
    user_id: user.id,
    client_id: pending.client_id,
    resource: pending.resource,
    scope: formatScope([...previous, ...scope]),
    granted_at: ctx.now(),
  });
  const declined = pending.scope.filter((s) => !scope.includes(s));
  await ctx.audit({
    type: 'consent',
    user_id: user.id,
    client_id: pending.client_id,
    detail: { scope: scope.join(' '), ...(declined.length ? { declined: declined.join(' ') } : {}) },
  });
  // Unticking offline_access means no refresh token, whatever the client may otherwise use.
  const offlineDeclined = declined.includes(OFFLINE_ACCESS);
  return issueCode(ctx, { ...pending, scope }, user.id, { offlineDeclined });
}

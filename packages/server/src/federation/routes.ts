import {
  constantTimeEqual,
  logUnexpectedError,
  type RequestInfo,
  type Router,
  randomToken,
} from '@gatehouse/core';
import * as oidc from 'openid-client';
import { adminReturnPath } from '../admin/return-path.ts';
import type { Context } from '../context.ts';
import { isInteractionId } from '../endpoints/authorize.ts';
import { ACCOUNT_HOME } from '../interaction/account.ts';
import { flowCookies } from '../interaction/flow-cookies.ts';
import { errorPage } from '../interaction/pages.ts';
import { page, redirect } from '../interaction/responses.ts';
import { startSession } from '../interaction/session.ts';
import { admit } from './admission.ts';
import type { IdentityProvider } from './config.ts';
import { userForIdentity } from './provision.ts';
import { redeemCallback, type UpstreamClients } from './upstream.ts';

/** How long a started upstream sign-in may take. */
const SIGN_IN_TTL = 10 * 60;
/** Starts per address in 15 minutes: each writes a row and may make the server discover a provider. */
const STARTS_PER_15_MINUTES = 100;

/** What the callback needs, parked in the store under the state's HMAC until the browser returns. */
interface PendingSignIn {
  provider: string;
  codeVerifier: string;
  nonce: string;
  /** HMAC of the random value in this browser's sign-in cookie: the callback must come back to it. */
  browser: string;
  /** The authorization request waiting for this sign-in, or the page to return to. */
  interaction?: string | undefined;
  returnTo?: string | undefined;
}

/** Store key of a pending sign-in; the `:` keeps it apart from authorization interaction ids. */
const pendingKey = (ctx: Context, state: string) => `signin:${ctx.secrets.hash(state)}`;

const refusal = (message: string, status = 403) => page(errorPage('You cannot sign in', message), status);
const expired = () =>
  page(errorPage('This sign-in has expired', 'Go back to the sign-in page and start again.'), 400);

/**
 * `GET /signin/:provider` (to the provider: code + PKCE, `state`, and `nonce` for OIDC) and
 * `GET /signin/:provider/callback` (back: the code redeemed, the person admitted by the provider's
 * rules, the user found by (provider, subject) or provisioned, a session started). Gatehouse's
 * own consent for the MCP client follows, as after a password sign-in: a provider that approves
 * silently approves who the person is, never what the client may do.
 */
export function addFederationRoutes(router: Router, ctx: Context, clients: UpstreamClients): void {
  const providers = new Map(ctx.config.identityProviders.map((p) => [p.id, p]));
  const find = (info: RequestInfo) => providers.get(info.params.get('provider') ?? '');
  router
    .add(
      '/signin/:provider',
      {
        GET: (request, info) => {
          const provider = find(info);
          return provider ? start(ctx, clients, provider, request, info) : Promise.resolve(unknownProvider());
        },
      },
      { page: true, head: false },
    )
    .add(
      '/signin/:provider/callback',
      {
        GET: (request, info) => {
          const provider = find(info);
          return provider
            ? callback(ctx, clients, provider, request, info)
            : Promise.resolve(unknownProvider());
        },
      },
      { page: true, head: false },
    );
}

const unknownProvider = () => page(errorPage('Not found', 'There is no such way to sign in.'), 404);

const redirectUri = (ctx: Context, provider: IdentityProvider) =>
  `${ctx.config.issuer}/signin/${provider.id}/callback`;

async function start(
  ctx: Context,
  clients: UpstreamClients,
  provider: IdentityProvider,
  request: Request,
  info: RequestInfo,
): Promise<Response> {
  const query = new URL(request.url).searchParams;
  const interaction = query.get('interaction') ?? undefined;
  if (interaction !== undefined && !isInteractionId(interaction)) return expired();
  const now = ctx.now();
  // Counted before anything is written or fetched, atomically.
  const starts = await ctx.store.hitRateLimit(`signin:ip:${info.remoteAddress ?? 'unknown'}`, 900, now);
  if (starts > STARTS_PER_15_MINUTES) {
    return page(errorPage('Too many sign-ins', 'Wait 15 minutes and try again.'), 429, {
      'retry-after': '900',
    });
  }
  let configuration: oidc.Configuration;
  try {
    configuration = await clients.configuration(provider);
  } catch (err) {
    return unreachable(ctx, provider, request, info, err);
  }
  const state = oidc.randomState();
  const codeVerifier = oidc.randomPKCECodeVerifier();
  const nonce = oidc.randomNonce();
  const browser = randomToken(32);
  const pending: PendingSignIn = {
    provider: provider.id,
    codeVerifier,
    nonce,
    browser: ctx.secrets.hash(browser),
    interaction,
    returnTo: interaction ? undefined : adminReturnPath(query.get('return') ?? undefined),
  };
  await ctx.store.saveInteraction({
    id: pendingKey(ctx, state),
    request: JSON.stringify(pending),
    expires_at: now + SIGN_IN_TTL,
  });
  const target = oidc.buildAuthorizationUrl(configuration, {
    redirect_uri: redirectUri(ctx, provider),
    scope: provider.scopes.join(' '),
    state,
    code_challenge: await oidc.calculatePKCECodeChallenge(codeVerifier),
    code_challenge_method: 'S256',
    ...(provider.type === 'oidc' ? { nonce } : {}),
  });
  const [cookie, ...cleared] = flowCookies(ctx, 'signin').start(request, state, browser, SIGN_IN_TTL);
  const response = redirect(target.href, cookie);
  for (const clear of cleared) response.headers.append('set-cookie', clear);
  return response;
}

/** A provider that cannot be reached or refuses the code: a page for the person, the cause for the operator. */
function unreachable(
  ctx: Context,
  provider: IdentityProvider,
  request: Request,
  info: RequestInfo,
  err: unknown,
): Response {
  (ctx.config.onError ?? logUnexpectedError)(err, {
    requestId: info.requestId,
    method: request.method,
    path: new URL(request.url).pathname,
  });
  return page(
    errorPage(
      `${provider.name} could not sign you in`,
      `Signing in with ${provider.name} did not work. Try again, or ask your administrator.`,
    ),
    502,
  );
}

async function callback(
  ctx: Context,
  clients: UpstreamClients,
  provider: IdentityProvider,
  request: Request,
  info: RequestInfo,
): Promise<Response> {
  const url = new URL(request.url);
  const state = url.searchParams.get('state');
  if (!state) return expired();
  const response = await finish(ctx, clients, provider, request, info, url, state);
  // This sign-in's cookie has served, whatever the outcome.
  response.headers.append('set-cookie', flowCookies(ctx, 'signin').clear(state));
  return response;
}

/** The callback's steps once its state is known: the pending sign-in, the browser check, the provider's answer. */
async function finish(
  ctx: Context,
  clients: UpstreamClients,
  provider: IdentityProvider,
  request: Request,
  info: RequestInfo,
  url: URL,
  state: string,
): Promise<Response> {
  // Taken once: a replayed callback finds nothing.
  const record = await ctx.store.takeInteraction(pendingKey(ctx, state), ctx.now());
  if (!record) return expired();
  const pending = JSON.parse(record.request) as PendingSignIn;
  const cookie = flowCookies(ctx, 'signin').read(request, state);
  // Login CSRF (RFC 6749 §10.12): the callback must reach the browser that started the sign-in,
  // or someone could sign another person's browser into their own account.
  if (
    pending.provider !== provider.id ||
    !cookie ||
    !constantTimeEqual(ctx.secrets.hash(cookie), pending.browser)
  ) {
    return expired();
  }
  if (url.searchParams.has('error')) {
    return page(
      errorPage('Sign-in cancelled', `${provider.name} did not sign you in. Go back and try again.`),
      400,
    );
  }
  let claims: Awaited<ReturnType<typeof redeemCallback>>;
  try {
    const configuration = await clients.configuration(provider);
    // The URL as the provider redirected to it: the issuer's, whatever host reached this process.
    const current = new URL(`${redirectUri(ctx, provider)}${url.search}`);
    claims = await redeemCallback(provider, configuration, current, {
      state,
      codeVerifier: pending.codeVerifier,
      nonce: pending.nonce,
    });
  } catch (err) {
    return unreachable(ctx, provider, request, info, err);
  }
  const admission = admit(provider, claims);
  if (!admission.ok) {
    ctx.audit({ type: 'login.refused', detail: { provider: provider.id, reason: 'provider_rules' } });
    return refusal(admission.reason);
  }
  const { user, created } = await userForIdentity(ctx, provider, admission.person);
  if (!user || user.disabled) {
    ctx.audit({ type: 'login.failed', user_id: user?.id, detail: { provider: provider.id, disabled: true } });
    return refusal('Your account here is disabled. Ask your administrator.');
  }
  if (created) ctx.audit({ type: 'user.provisioned', user_id: user.id, detail: { provider: provider.id } });
  ctx.audit({ type: 'login', user_id: user.id, detail: { provider: provider.id } });
  const target = pending.interaction
    ? `/interaction/${pending.interaction}`
    : (pending.returnTo ?? ACCOUNT_HOME);
  return redirect(target, await startSession(ctx, user));
}

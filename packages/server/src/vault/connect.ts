import { OAuthError, type RequestInfo, type Router } from '@gatehouse/core';
import * as oidc from 'openid-client';
import type { Context } from '../context.ts';
import { isInteractionId } from '../endpoints/authorize.ts';
import { ACCOUNT_HOME, LOGIN_PATH } from '../interaction/account.ts';
import { flowCookies } from '../interaction/flow-cookies.ts';
import { redirect } from '../interaction/responses.ts';
import { currentUser } from '../interaction/session.ts';
import type { Vault } from './vault.ts';

/** How long a connect may take at the upstream (sign-in and approval there). */
const CONNECT_SECONDS = 600;

/**
 * `GET /connect/:provider` and its callback: the signed-in user connects their account at an
 * upstream API (RFC 6749 §4.1 with PKCE, RFC 7636, and `state`, through openid-client). The
 * state and PKCE verifier travel in an encrypted cookie bound to the user, so a callback
 * carrying someone else's code (an attacker's account) is refused.
 *
 * Started from a consent page (`?interaction=<id>`), the callback returns to that page, where the
 * user then approves; otherwise to connected apps. Only an interaction id is carried, never a
 * URL, so the flow cannot be made to redirect anywhere else.
 */
export function addConnectRoutes(router: Router, ctx: Context, vault: Vault): void {
  router
    .add('/connect/:provider', { GET: (request, info) => start(ctx, vault, request, info) }, { page: true })
    .add(
      '/connect/:provider/callback',
      { GET: (request, info) => callback(ctx, vault, request, info) },
      { page: true },
    );
}

/** What the connect cookie carries between the start and the callback (encrypted, bound to the user). */
interface PendingConnect {
  provider: string;
  state: string;
  verifier: string;
  /** The consent page the connect was started from, to return to. */
  interaction?: string;
}

const redirectUri = (ctx: Context, provider: string) =>
  `${ctx.config.issuer}/connect/${encodeURIComponent(provider)}/callback`;

/** The provider a request names, among the configured ones only (a Map: names are data). */
function providerOf(vault: Vault, info: RequestInfo): string {
  const provider = info.params.get('provider') ?? '';
  if (!vault.has(provider))
    throw new OAuthError('invalid_request', 'There is no such connection.', { status: 404 });
  return provider;
}

async function start(ctx: Context, vault: Vault, request: Request, info: RequestInfo): Promise<Response> {
  const provider = providerOf(vault, info);
  const user = await currentUser(ctx, request);
  if (!user) return redirect(LOGIN_PATH);
  const client = vault.client(provider) as oidc.Configuration;
  const state = oidc.randomState();
  const verifier = oidc.randomPKCECodeVerifier();
  const target = oidc.buildAuthorizationUrl(client, {
    redirect_uri: redirectUri(ctx, provider),
    response_type: 'code',
    scope: vault.scope(provider),
    state,
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
  });
  const interaction = new URL(request.url).searchParams.get('interaction') ?? undefined;
  const pending: PendingConnect = {
    provider,
    state,
    verifier,
    ...(interaction !== undefined && isInteractionId(interaction) ? { interaction } : {}),
  };
  const sealed = ctx.secrets.encrypt(JSON.stringify(pending), `connect:${user.id}`);
  const [cookie, ...cleared] = flowCookies(ctx, 'connect').start(request, state, sealed, CONNECT_SECONDS);
  const response = redirect(target.href, cookie);
  for (const clear of cleared) response.headers.append('set-cookie', clear);
  return response;
}

async function callback(ctx: Context, vault: Vault, request: Request, info: RequestInfo): Promise<Response> {
  const provider = providerOf(vault, info);
  const user = await currentUser(ctx, request);
  if (!user) return redirect(LOGIN_PATH);
  const url = new URL(request.url);
  const cookies = flowCookies(ctx, 'connect');
  const state = url.searchParams.get('state') ?? '';
  // This flow's cookie has served, whatever the outcome.
  const refused = (why: string) =>
    new OAuthError('access_denied', `Your ${provider} account was not connected: ${why}`, {
      status: 400,
      headers: { 'set-cookie': cookies.clear(state) },
    });
  let pending: PendingConnect;
  try {
    const cookie = cookies.read(request, state) ?? '';
    pending = JSON.parse(ctx.secrets.decrypt(cookie, `connect:${user.id}`));
  } catch {
    throw refused('this connection was not started here, or took too long. Start it again.');
  }
  if (pending.provider !== provider) throw refused('this connection was started for another provider.');
  // The URL the upstream redirected to, as registered there (the issuer's, not the listener's).
  const current = new URL(`${redirectUri(ctx, provider)}${url.search}`);
  let tokens: oidc.TokenEndpointResponse;
  try {
    tokens = await oidc.authorizationCodeGrant(vault.client(provider) as oidc.Configuration, current, {
      pkceCodeVerifier: pending.verifier,
      expectedState: pending.state,
    });
  } catch (err) {
    if (err instanceof oidc.AuthorizationResponseError) throw refused(`${provider} answered ${err.error}.`);
    throw refused(`${provider} did not complete the connection. Start it again.`);
  }
  await vault.save(user.id, provider, tokens);
  ctx.audit({ type: 'connection.added', user_id: user.id, detail: { provider } });
  const back = pending.interaction ? `/interaction/${pending.interaction}` : `${ACCOUNT_HOME}?connected`;
  return redirect(back, cookies.clear(state));
}

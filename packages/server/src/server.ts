import { errorResponse, OAuthError } from '@gatehouse/core';
import { createCimdFetcher, isClientIdMetadataUrl } from './clients/cimd/index.ts';
import { ClientRegistry } from './clients/registry.ts';
import { type AuthorizationServerConfig, resolveConfig } from './config.ts';
import { type Context, createContext } from './context.ts';
import { introspectEndpoint } from './endpoints/introspect.ts';
import { jwksEndpoint, metadataEndpoint } from './endpoints/metadata.ts';
import { registerEndpoint } from './endpoints/register.ts';
import { revocationFeedEndpoint } from './endpoints/revocation-feed.ts';
import { revokeEndpoint } from './endpoints/revoke.ts';
import { tokenEndpoint } from './endpoints/token.ts';
import { TokenFailureLimit } from './endpoints/token-failure-limit.ts';
import type { RequestContext } from './http/node.ts';
import { accountRoute, isAccountPath } from './interaction/account.ts';
import { errorPage, pageHeaders, STYLESHEET_PATH, stylesheet } from './interaction/pages.ts';
import { authorizeEndpoint, showInteraction, submitConsent, submitLogin } from './interaction/routes.ts';
import { createSecrets } from './secrets.ts';
import { KeyRing } from './tokens/keys.ts';
import { RevocationList } from './tokens/revocation-list.ts';

export interface AuthorizationServer {
  /** The whole AS as one web-standard handler. */
  fetch(request: Request, context?: RequestContext): Promise<Response>;
  /** In-process revocation source for guards running beside the AS. */
  revocations: RevocationList;
  context: Context;
  close(): Promise<void>;
}

/**
 * The path of a Request's URL. `request.url` is already a serialized WHATWG URL, so for http(s)
 * the path is the text between the authority and the query or fragment, exactly as `new URL(url).pathname`
 * would give it, without parsing the URL a second time on every request.
 */
export function pathOf(url: string): string {
  const authority = url.startsWith('https://') ? 8 : url.startsWith('http://') ? 7 : -1;
  if (authority < 0) return new URL(url).pathname;
  const start = url.indexOf('/', authority);
  if (start < 0) return '/';
  let end = url.length;
  for (let i = start; i < end; i++) {
    const c = url.charCodeAt(i);
    if (c === 63 /* ? */ || c === 35 /* # */) end = i;
  }
  return url.slice(start, end);
}

/** How often this process picks up revocations made by other instances sharing the store. */
const REVOCATION_SYNC_MS = 500;
const PRUNE_MS = 10 * 60 * 1000;

/**
 * Creates the authorization server.
 *
 * @example
 * const as = await createAuthorizationServer({ issuer: 'https://auth.example.com', store, masterSecret });
 * http.createServer(toNodeListener(as.fetch, as.context.config.issuer)).listen(8080);
 */
export async function createAuthorizationServer(
  input: AuthorizationServerConfig,
): Promise<AuthorizationServer> {
  const config = resolveConfig(input);
  const { store } = config;
  const secrets = createSecrets(config.masterSecret);
  const keys = new KeyRing(store, secrets, config.now);
  await keys.load(config.now());
  const revocations = new RevocationList(store, config.now);
  await revocations.sync();
  const cimd = config.clientIdMetadataDocuments;
  const clients = new ClientRegistry(
    store,
    cimd.enabled === false
      ? undefined
      : {
          fetcher: createCimdFetcher({
            resolve: cimd.resolve,
            dangerouslyAllowPrivateNetworks: cimd.dangerouslyAllowPrivateNetworks,
            dangerouslyAllowInsecureHttp: cimd.dangerouslyAllowInsecureHttp,
          }),
          isMetadataUrl: isClientIdMetadataUrl,
        },
    config.now,
  );
  const ctx = createContext(config, { store, secrets, keys, revocations, clients });

  const tokenFailures = new TokenFailureLimit(ctx);
  const metadata = metadataEndpoint(ctx);
  const jwks = jwksEndpoint(ctx);
  const css = () =>
    new Response(stylesheet, {
      headers: { 'content-type': 'text/css', 'cache-control': 'public, max-age=3600' },
    });

  async function route(request: Request, remoteAddress: string | undefined): Promise<Response> {
    const pathname = pathOf(request.url);
    const method = request.method;
    const get = method === 'GET' || method === 'HEAD';
    switch (pathname) {
      case '/.well-known/oauth-authorization-server':
      case '/.well-known/openid-configuration':
        if (get) return metadata();
        break;
      case '/.well-known/jwks.json':
        if (get) return jwks();
        break;
      case '/oauth/authorize':
        if (get || method === 'POST') return authorizeEndpoint(ctx, request);
        break;
      case '/oauth/token':
        return tokenEndpoint(ctx, request, tokenFailures, remoteAddress);
      case '/oauth/revoke':
        return revokeEndpoint(ctx, request);
      case '/oauth/introspect':
        return introspectEndpoint(ctx, request);
      case '/oauth/register':
        return registerEndpoint(ctx, request, remoteAddress);
      case '/oauth/revocations':
        if (get) return revocationFeedEndpoint(ctx, request);
        break;
      case STYLESHEET_PATH:
        return css();
    }
    if (isAccountPath(pathname)) return accountRoute(ctx, request, remoteAddress);
    const interaction = /^\/interaction\/([A-Za-z0-9_-]{20,64})(\/login|\/consent)?$/.exec(pathname);
    if (interaction) {
      const [, id, action] = interaction as unknown as [string, string, string | undefined];
      if (get && !action) return showInteraction(ctx, request, id);
      if (method === 'POST' && action === '/login') return submitLogin(ctx, request, id, remoteAddress);
      if (method === 'POST' && action === '/consent') return submitConsent(ctx, request, id);
    }
    return new Response(errorPage('Not found', 'There is nothing at this address.'), {
      status: 404,
      headers: pageHeaders(),
    });
  }

  const syncTimer = setInterval(() => void revocations.sync().catch(() => {}), REVOCATION_SYNC_MS).unref();
  // Stores that can push (PostgreSQL LISTEN/NOTIFY) make other instances' revocations arrive at
  // once; the poll above stays as the fallback.
  const unsubscribe = await store.subscribeRevocations?.(() => void revocations.sync().catch(() => {}));
  const pruneTimer = setInterval(() => void store.prune(config.now()).catch(() => {}), PRUNE_MS).unref();
  // Picks up keys rotated by `gatehouse keys rotate`, well within their 5-minute propagation delay.
  const keyTimer = setInterval(() => void keys.load(config.now()).catch(() => {}), 30_000).unref();

  return {
    async fetch(request, context) {
      try {
        return await route(request, context?.remoteAddress);
      } catch (err) {
        // Pages turn OAuth errors into a readable page; anything else is a bare server_error.
        if (err instanceof OAuthError && (request.headers.get('accept') ?? '').includes('text/html')) {
          return new Response(errorPage('Something went wrong', err.description ?? err.code), {
            status: err.status,
            headers: pageHeaders(),
          });
        }
        return errorResponse(err);
      }
    },
    revocations,
    context: ctx,
    async close() {
      await ctx.flushAudit();
      clearInterval(syncTimer);
      await unsubscribe?.();
      clearInterval(pruneTimer);
      clearInterval(keyTimer);
    },
  };
}

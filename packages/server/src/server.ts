import {
  createHttpApp,
  errorResponse,
  type HttpHandler,
  type MethodHandlers,
  OAuthError,
  type RequestInfo,
  type Route,
  type RouteOptions,
  Router,
} from '@gatehouse/core';
import { addAdminRoutes } from './admin/routes.ts';
import { createCimdFetcher, isClientIdMetadataUrl } from './clients/cimd/index.ts';
import { ClientRegistry } from './clients/registry.ts';
import { type AuthorizationServerConfig, resolveConfig } from './config.ts';
import { type Context, createContext } from './context.ts';
import { isInteractionId } from './endpoints/authorize.ts';
import { introspectEndpoint } from './endpoints/introspect.ts';
import { jwksEndpoint, metadataEndpoint } from './endpoints/metadata.ts';
import { registerEndpoint } from './endpoints/register.ts';
import { revocationFeedEndpoint } from './endpoints/revocation-feed.ts';
import { revokeEndpoint } from './endpoints/revoke.ts';
import { tokenEndpoint } from './endpoints/token.ts';
import { TokenFailureLimit } from './endpoints/token-failure-limit.ts';
import { addFederationRoutes } from './federation/routes.ts';
import { UpstreamClients } from './federation/upstream.ts';
import { addAccountRoutes } from './interaction/account.ts';
import { homePage } from './interaction/home-page.ts';
import { errorPage, pageHeaders, STYLESHEET_PATH, stylesheet } from './interaction/pages.ts';
import { page } from './interaction/responses.ts';
import { authorizeEndpoint, showInteraction, submitConsent, submitLogin } from './interaction/routes.ts';
import { createSecrets } from './secrets.ts';
import { KeyRing } from './tokens/keys.ts';
import { RevocationList } from './tokens/revocation-list.ts';
import { addConnectRoutes } from './vault/connect.ts';
import { Vault } from './vault/vault.ts';

export interface AuthorizationServer {
  /** The whole AS as one web-standard handler. */
  fetch: HttpHandler;
  /**
   * Serves another handler through the same HTTP layer (one router, one error path), e.g. an MCP
   * server behind the guard at `/mcp`, as `gatehouse serve` does.
   */
  mount(path: string, handlers: MethodHandlers, options?: RouteOptions): void;
  /** In-process revocation source for guards running beside the AS. */
  revocations: RevocationList;
  context: Context;
  /** The token vault: users' upstream API tokens (the gateway's `credentials`). */
  vault: Vault;
  close(): Promise<void>;
}

/** How often this process picks up revocations made by other instances sharing the store. */
const REVOCATION_SYNC_MS = 500;
const PRUNE_MS = 10 * 60 * 1000;

/**
 * Errors of pages are pages; errors of OAuth endpoints are always RFC 6749 §5.2 JSON, whatever the
 * Accept header says. Where no route matched, a browser gets a page.
 */
function renderError(error: OAuthError, request: Request, route: Route | undefined): Response {
  const browser = route ? route.page : (request.headers.get('accept') ?? '').includes('text/html');
  if (!browser) return errorResponse(error);
  const [title, message] =
    error.status === 404
      ? ['Not found', 'There is nothing at this address.']
      : error.status === 405
        ? ['Method not allowed', 'This page does not accept that request.']
        : ['Something went wrong', error.description ?? error.code];
  return new Response(errorPage(title, message), {
    status: error.status,
    headers: { ...pageHeaders(), ...error.headers },
  });
}

/**
 * Creates the authorization server.
 *
 * @example
 * const as = await createAuthorizationServer({ issuer: 'https://auth.example.com', store, masterSecret });
 * http.createServer(toNodeListener(as.fetch, 'https://auth.example.com')).listen(8080);
 */
export async function createAuthorizationServer(
  input: AuthorizationServerConfig,
): Promise<AuthorizationServer> {
  const config = resolveConfig(input);
  const { store } = config;
  // The master secret goes into `secrets` and nowhere else: not on config, not on the context.
  const secrets = createSecrets(input.masterSecret);
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
  const vault = new Vault({
    store,
    secrets,
    issuer: config.issuer,
    now: config.now,
    connections: input.connections ?? new Map(),
  });

  const tokenFailures = new TokenFailureLimit(ctx);
  const metadata = metadataEndpoint(ctx);
  const jwks = jwksEndpoint(ctx);
  const home = () => page(homePage({ issuer: config.issuer, mcpServers: config.resources }));
  const css = () =>
    new Response(stylesheet, {
      headers: { 'content-type': 'text/css', 'cache-control': 'public, max-age=3600' },
    });
  /** An interaction route, for well-formed ids only. */
  const interaction =
    (handler: (request: Request, id: string, info: RequestInfo) => Promise<Response>) =>
    (request: Request, info: RequestInfo) => {
      const id = info.params.get('id') ?? '';
      if (!isInteractionId(id)) {
        throw new OAuthError('invalid_request', 'This sign-in does not exist.', { status: 404 });
      }
      return handler(request, id, info);
    };

  // Every route of the AS in one table; the HTTP layer answers 405 with `Allow` for other methods.
  const router = new Router()
    .add('/', { GET: home }, { page: true })
    .add('/.well-known/oauth-authorization-server', { GET: metadata }, { cors: true })
    .add('/.well-known/jwks.json', { GET: jwks }, { cors: true })
    // No HEAD: a GET here may issue a code, which a HEAD must never do.
    .add(
      '/oauth/authorize',
      {
        GET: (request) => authorizeEndpoint(ctx, request),
        POST: (request) => authorizeEndpoint(ctx, request),
      },
      { head: false, page: true },
    )
    .add(
      '/oauth/token',
      { POST: (request, info) => tokenEndpoint(ctx, request, tokenFailures, info.remoteAddress) },
      { cors: true },
    )
    .add('/oauth/revoke', { POST: (request) => revokeEndpoint(ctx, request) }, { cors: true })
    // For resource servers (RFC 7662 §4), never browsers: no CORS.
    .add('/oauth/introspect', { POST: (request) => introspectEndpoint(ctx, request) })
    .add('/oauth/revocations', { GET: (request) => revocationFeedEndpoint(ctx, request) })
    .add(STYLESHEET_PATH, { GET: css })
    .add(
      '/interaction/:id',
      { GET: interaction((request, id) => showInteraction(ctx, vault, request, id)) },
      { page: true },
    )
    .add(
      '/interaction/:id/login',
      { POST: interaction((request, id, info) => submitLogin(ctx, request, id, info.remoteAddress)) },
      { page: true },
    )
    .add(
      '/interaction/:id/consent',
      { POST: interaction((request, id) => submitConsent(ctx, vault, request, id)) },
      { page: true },
    );
  // Switched off, registration is gone (404), not merely unadvertised.
  if (config.registration.enabled) {
    router.add(
      '/oauth/register',
      { POST: (request, info) => registerEndpoint(ctx, request, info.remoteAddress) },
      { cors: true },
    );
  }
  addAccountRoutes(router, ctx, vault);
  // The providers' client secrets go from the input straight to their openid-client configurations.
  addFederationRoutes(router, ctx, new UpstreamClients(input.identityProviders));
  addAdminRoutes(router, ctx, vault);
  addConnectRoutes(router, ctx, vault);
  const app = createHttpApp({ router, renderError, onError: config.onError });

  const syncTimer = setInterval(() => void revocations.sync().catch(() => {}), REVOCATION_SYNC_MS).unref();
  // Stores that can push (PostgreSQL LISTEN/NOTIFY) make other instances' revocations arrive at
  // once; the poll above stays as the fallback.
  const unsubscribe = await store.subscribeRevocations?.(() => void revocations.sync().catch(() => {}));
  const pruneTimer = setInterval(() => void store.prune(config.now()).catch(() => {}), PRUNE_MS).unref();
  // Picks up keys rotated by `gatehouse keys rotate`, well within their 5-minute propagation delay.
  const keyTimer = setInterval(() => void keys.load(config.now()).catch(() => {}), 30_000).unref();

  return {
    fetch: app,
    mount(path, handlers, options) {
      router.add(path, handlers, options);
    },
    revocations,
    context: ctx,
    vault,
    async close() {
      await ctx.flushAudit();
      clearInterval(syncTimer);
      await unsubscribe?.();
      clearInterval(pruneTimer);
      clearInterval(keyTimer);
    },
  };
}

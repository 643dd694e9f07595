import { type ClientMetadata, randomToken } from '@gatehouse/core';
import type {
  OAuthClientInformationContext,
  OAuthClientMetadata,
  OAuthClientProvider,
  OAuthDiscoveryState,
  StoredOAuthClientInformation,
  StoredOAuthTokens,
} from '@modelcontextprotocol/client';
import { ClientError } from '../errors.ts';
import { parseAuthorizationResponse } from '../flow/authorization.ts';
import { type RegistrationConfig, resolveClient } from '../flow/registration.ts';
import type { FetchLike } from '../http.ts';
import { loopbackInteraction } from '../interaction/loopback.ts';
import type { AuthorizationInteraction, PendingAuthorization } from '../interaction/types.ts';
import { type DiscoveredContext, OAuthClient } from '../session.ts';
import { FileTokenStore } from '../store/file.ts';
import type { StoredClient, StoredTokens, TokenStore } from '../store/types.ts';

export interface McpOAuthProviderOptions {
  /** The MCP server URL: the protected resource. */
  resource: string | URL;
  /** Where registrations and tokens live; default: the encrypted file in the user's config folder. */
  store?: TokenStore;
  /** Used for discovery, registration and refresh (the SDK's own requests use the transport's). */
  fetch?: FetchLike;
  /** Milliseconds since the epoch; injectable so tests freeze time. */
  now?: () => number;
  /** How the user reaches the authorization endpoint; default: loopback redirect + system browser. */
  interaction?: AuthorizationInteraction;
  /** Pre-registered credentials, a CIMD URL, and what DCR sends (`client_name`, …). */
  registration?: RegistrationConfig;
  /** Refresh this long before expiry (ms); default 60 s. */
  refreshSkewMs?: number;
}

/** Used only before the first `clientInformation()` call gives the real loopback port. */
const PLACEHOLDER_REDIRECT = 'http://127.0.0.1/callback';

/**
 * An `OAuthClientProvider` for the official MCP SDK clients (v2 `@modelcontextprotocol/client`
 * and v1 `@modelcontextprotocol/sdk`, whose interface is a subset), backed by Gatehouse's client:
 *
 * - discovery is ours (`discoveryState()`): RFC 9728 resource check, RFC 8414 issuer echo, S256
 *   required, https endpoints — the SDK reuses the result instead of discovering itself;
 * - registration is ours (`clientInformation()`): pre-registered → stored → CIMD → DCR, keyed by
 *   issuer, registering the loopback redirect URI of the pending authorization;
 * - tokens live in our `TokenStore` (encrypted at rest by default), and the per-request read
 *   (`tokens()` without context) refreshes ahead of expiry through our single-flight refresh, so
 *   concurrent requests and processes sharing the store refresh once;
 * - the authorization callback is checked by us (`state`, RFC 9207 `iss`) before the SDK sees it.
 *
 * - the SDK's own refresh after a 401 joins the same single flight when the transport is given
 *   `fetch: provider.fetch`.
 *
 * The SDK still builds the PKCE pair and the authorization request and redeems the code. Use
 * {@link connectWithOAuth} for the whole "401 → browser → finishAuth → reconnect" dance.
 *
 * @example
 * const provider = new McpOAuthProvider({ resource: 'https://mcp.example.com/mcp' });
 * const transport = new StreamableHTTPClientTransport(provider.serverUrl, { authProvider: provider, fetch: provider.fetch });
 * @see https://modelcontextprotocol.io/specification/2025-11-25/basic/authorization
 */
export class McpOAuthProvider implements OAuthClientProvider {
  /** The Gatehouse client this provider shares discovery, store and refresh with. */
  readonly oauth: OAuthClient;
  readonly #store: TokenStore;
  readonly #fetch: FetchLike;
  readonly #now: () => number;
  readonly #interaction: AuthorizationInteraction;
  readonly #registration: RegistrationConfig;
  #discovery: DiscoveredContext | undefined;
  #pending: PendingAuthorization | undefined;
  #callback: Promise<URL> | undefined;
  #state: string | undefined;
  #verifier: string | undefined;
  #clientId: string | undefined;

  constructor(options: McpOAuthProviderOptions) {
    this.#store = options.store ?? new FileTokenStore();
    this.#fetch = options.fetch ?? ((input, init) => fetch(input, init));
    this.#now = options.now ?? Date.now;
    this.#interaction = options.interaction ?? loopbackInteraction();
    this.#registration = options.registration ?? {};
    this.oauth = new OAuthClient({
      resource: options.resource,
      store: this.#store,
      fetch: this.#fetch,
      now: this.#now,
      registration: this.#registration,
      ...(options.refreshSkewMs === undefined ? {} : { refreshSkewMs: options.refreshSkewMs }),
    });
  }

  /**
   * A `fetch` to give the SDK transport (`{ authProvider: provider, fetch: provider.fetch }`): it
   * routes the SDK's own refresh requests (after a 401) through our single-flight refresh, so
   * concurrent 401s in this process, and in others sharing the store, spend the refresh token
   * once and later ones receive its successor instead of a reuse error. Everything else passes.
   */
  readonly fetch: FetchLike = (input, init) => this.#send(new Request(input, init));

  /** The MCP server URL, for building the transport. */
  get serverUrl(): URL {
    return this.oauth.resourceUrl;
  }

  /** The loopback redirect URI of the authorization in progress. */
  get redirectUrl(): string {
    return this.#pending?.redirectUri ?? PLACEHOLDER_REDIRECT;
  }

  get clientMetadataUrl(): string | undefined {
    return this.#registration.clientMetadataUrl;
  }

  /** What DCR would send; registration itself happens in `clientInformation()`. */
  get clientMetadata(): OAuthClientMetadata {
    const extra: ClientMetadata = this.#registration.clientMetadata ?? {};
    return {
      client_name: 'Gatehouse MCP client',
      ...(extra as Omit<OAuthClientMetadata, 'redirect_uris'>),
      redirect_uris: [this.redirectUrl],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
      application_type: 'native',
    };
  }

  /** RFC 6749 §10.12: a fresh `state` per authorization request, checked on the way back. */
  state(): string {
    this.#state = randomToken(16);
    return this.#state;
  }

  /** Our discovery, handed to the SDK so it skips its own (and its laxer checks). */
  async discoveryState(): Promise<OAuthDiscoveryState> {
    this.#discovery ??= await this.oauth.discover();
    const { as, prm, resourceMetadataUrl } = this.#discovery;
    return {
      authorizationServerUrl: as.issuer,
      resourceMetadataUrl,
      resourceMetadata: prm as OAuthDiscoveryState['resourceMetadata'],
      authorizationServerMetadata: as as OAuthDiscoveryState['authorizationServerMetadata'],
    };
  }

  /** Our discovery is authoritative; the SDK only echoes it back, so nothing to keep. */
  saveDiscoveryState(_state: OAuthDiscoveryState): void {}

  /**
   * The registration for the authorization server, resolved in the MCP order (pre-registered,
   * stored, CIMD, DCR). Starts the pending authorization first, so DCR registers its real
   * loopback redirect URI and `redirectUrl` is right for the rest of this `auth()` call.
   */
  async clientInformation(ctx?: OAuthClientInformationContext): Promise<StoredOAuthClientInformation> {
    const { as } = await this.#context();
    if (ctx && ctx.issuer !== as.issuer) {
      throw new ClientError('issuer_mismatch', `the SDK asked about ${ctx.issuer}, not ${as.issuer}`);
    }
    this.#pending ??= await this.#interaction.begin();
    let client: StoredClient;
    try {
      client = await resolveClient(as, {
        store: this.#store,
        fetch: this.#fetch,
        now: this.#now,
        redirectUri: this.#pending.redirectUri,
        config: this.#registration,
      });
    } catch (err) {
      await this.#finish(); // no registration, no authorization: release the listener
      throw err;
    }
    this.#clientId = client.client_id;
    return {
      client_id: client.client_id,
      ...(client.client_secret ? { client_secret: client.client_secret } : {}),
      ...(client.client_secret_expires_at === undefined
        ? {}
        : { client_secret_expires_at: client.client_secret_expires_at }),
      token_endpoint_auth_method: client.token_endpoint_auth_method,
      redirect_uris: client.redirect_uris ?? [this.#pending.redirectUri],
      issuer: as.issuer,
    } as StoredOAuthClientInformation;
  }

  /** Only reached for an SDK-side registration, which ours makes unnecessary; kept for safety. */
  async saveClientInformation(
    info: StoredOAuthClientInformation,
    ctx?: OAuthClientInformationContext,
  ): Promise<void> {
    const issuer = ctx?.issuer ?? info.issuer ?? (await this.#context()).as.issuer;
    const method = (info as { token_endpoint_auth_method?: string }).token_endpoint_auth_method;
    await this.#store.setClient({
      ...(info as StoredClient),
      issuer,
      token_endpoint_auth_method: method ?? (info.client_secret ? 'client_secret_basic' : 'none'),
      source: /^https:\/\//.test(info.client_id) ? 'cimd' : 'dcr',
      registered_at: this.#now(),
    });
  }

  /**
   * Without `ctx` (the transport's read before every request): the newest tokens for this
   * resource, refreshed first when about to expire — single-flight in this process and, through
   * the store's lock, across processes. A dead grant reads as no tokens, so the SDK's next 401
   * starts a fresh authorization instead of retrying the dead one.
   *
   * With `ctx` (inside `auth()`): the stored tokens for that issuer, as they are.
   */
  async tokens(ctx?: OAuthClientInformationContext): Promise<StoredOAuthTokens | undefined> {
    let stored: StoredTokens | undefined;
    if (ctx) {
      const { resource } = await this.#context();
      stored = await this.#store.getTokens(ctx.issuer, resource);
    } else {
      try {
        stored = await this.oauth.freshTokens();
      } catch (err) {
        if (err instanceof ClientError && err.code === 'reauthorization_required') return undefined;
        throw err;
      }
    }
    return stored && this.#toSdk(stored);
  }

  async saveTokens(tokens: StoredOAuthTokens, ctx?: OAuthClientInformationContext): Promise<void> {
    const { as, resource } = await this.#context();
    const issuer = ctx?.issuer ?? tokens.issuer ?? as.issuer;
    const previous = await this.#store.getTokens(issuer, resource);
    const client_id =
      this.#clientId ?? previous?.client_id ?? (await this.clientInformation({ issuer })).client_id;
    const now = this.#now();
    const refresh = tokens.refresh_token ?? previous?.refresh_token;
    const scope = tokens.scope ?? previous?.scope;
    await this.#store.setTokens({
      issuer,
      resource,
      client_id,
      access_token: tokens.access_token,
      token_type: tokens.token_type,
      ...(typeof tokens.expires_in === 'number' ? { expires_at: now + tokens.expires_in * 1000 } : {}),
      ...(refresh ? { refresh_token: refresh } : {}),
      ...(scope ? { scope } : {}),
      updated_at: now,
    });
    // Tokens in hand: the loopback listener has done its job (or was never needed).
    await this.#finish();
  }

  /**
   * Sends the user to the authorization server. Does not wait for them: `auth()` returns
   * `'REDIRECT'` and the caller awaits {@link McpOAuthProvider.authorizationResponse}.
   */
  async redirectToAuthorization(authorizationUrl: URL): Promise<void> {
    this.#pending ??= await this.#interaction.begin();
    const callback = this.#pending.complete(authorizationUrl);
    callback.catch(() => {}); // surfaced by authorizationResponse(), not as an unhandled rejection
    this.#callback = callback;
  }

  /** True between `redirectToAuthorization()` and `authorizationResponse()`. */
  get authorizationPending(): boolean {
    return this.#callback !== undefined;
  }

  /**
   * Waits for the browser to come back and checks the response: `state` must match and `iss`
   * (RFC 9207) must be the issuer's. Returns the callback's parameters, for `finishAuth()`.
   *
   * @see https://www.rfc-editor.org/rfc/rfc9207#section-2.4
   */
  async authorizationResponse(): Promise<URLSearchParams> {
    const callback = this.#callback;
    if (!callback) throw new ClientError('authorization_failed', 'no authorization is in progress');
    this.#callback = undefined;
    try {
      const url = await callback;
      const { as } = await this.#context();
      parseAuthorizationResponse(url, {
        state: this.#state ?? '',
        issuer: as.issuer,
        issRequired: as.authorization_response_iss_parameter_supported === true,
      });
      return url.searchParams;
    } catch (err) {
      await this.#finish();
      throw err;
    }
  }

  saveCodeVerifier(codeVerifier: string): void {
    this.#verifier = codeVerifier;
  }

  codeVerifier(): string {
    if (!this.#verifier) throw new ClientError('authorization_failed', 'no PKCE code verifier was saved');
    return this.#verifier;
  }

  /** Called by the SDK when the server says credentials are no longer valid. */
  async invalidateCredentials(scope: 'all' | 'client' | 'tokens' | 'verifier' | 'discovery'): Promise<void> {
    if (scope === 'verifier' || scope === 'all') this.#verifier = undefined;
    if (scope === 'discovery' || scope === 'all') this.#discovery = undefined;
    if (scope === 'verifier' || scope === 'discovery') return;
    const ctx = this.#discovery ?? (await this.#context());
    if (scope === 'tokens' || scope === 'all') await this.#store.deleteTokens(ctx.as.issuer, ctx.resource);
    if (scope === 'client' || scope === 'all') await this.#store.deleteClient(ctx.as.issuer);
  }

  /** Releases the loopback listener of an abandoned authorization. */
  async close(): Promise<void> {
    this.#callback = undefined;
    await this.#finish();
  }

  async #send(request: Request): Promise<Response> {
    const ctx = this.#discovery;
    if (
      request.method !== 'POST' ||
      !ctx?.as.token_endpoint ||
      request.url !== new URL(ctx.as.token_endpoint).href
    ) {
      return this.#fetch(request);
    }
    const form = new URLSearchParams(await request.clone().text());
    const presented = form.get('refresh_token');
    if (form.get('grant_type') !== 'refresh_token' || !presented) return this.#fetch(request);
    const stored = await this.#store.getTokens(ctx.as.issuer, ctx.resource);
    if (!stored?.refresh_token) return this.#fetch(request);
    try {
      // The presented token already rotated (by us or a sibling process): hand out its successor.
      const next = stored.refresh_token === presented ? await this.oauth.refresh(stored) : stored;
      const body = this.#toSdk(next);
      delete body.issuer;
      return Response.json(body, { headers: { 'cache-control': 'no-store' } });
    } catch (err) {
      if (err instanceof ClientError && err.code === 'reauthorization_required') {
        return Response.json({ error: 'invalid_grant' }, { status: 400 });
      }
      return Response.json({ error: 'temporarily_unavailable' }, { status: 503 });
    }
  }

  async #context(): Promise<DiscoveredContext> {
    this.#discovery ??= await this.oauth.discover();
    return this.#discovery;
  }

  async #finish(): Promise<void> {
    const pending = this.#pending;
    if (!pending || this.#callback) return;
    this.#pending = undefined;
    await pending.close();
  }

  #toSdk(t: StoredTokens): StoredOAuthTokens {
    return {
      access_token: t.access_token,
      token_type: t.token_type,
      ...(t.refresh_token ? { refresh_token: t.refresh_token } : {}),
      ...(t.scope ? { scope: t.scope } : {}),
      ...(t.expires_at === undefined
        ? {}
        : { expires_in: Math.max(0, Math.floor((t.expires_at - this.#now()) / 1000)) }),
      issuer: t.issuer,
    };
  }
}

import {
  type AuthorizationServerMetadata,
  createPkcePair,
  type ProtectedResourceMetadata,
  parseBearerChallenge,
  parseScope,
  randomToken,
  type TokenResponse,
  untilAborted,
} from '@gatehouse/core';
import { discoverAuthorizationServer } from './discovery/authorization-server.ts';
import { discoverProtectedResource, resourceCovers } from './discovery/protected-resource.ts';
import { ClientError } from './errors.ts';
import { buildAuthorizationUrl, parseAuthorizationResponse } from './flow/authorization.ts';
import type { ClientAuthentication } from './flow/client-auth.ts';
import { clientAuthentication, type RegistrationConfig, resolveClient } from './flow/registration.ts';
import { selectScope } from './flow/scope.ts';
import { requestToken } from './flow/token-request.ts';
import { type FetchLike, type Outbound, withClientDeadline } from './http.ts';
import type { AuthorizationInteraction } from './interaction/types.ts';
import { FileTokenStore } from './store/file.ts';
import { type StoredTokens, type TokenStore, tokensKey } from './store/types.ts';

export interface OAuthClientOptions {
  /** The MCP server URL: the protected resource. */
  resource: string | URL;
  /** Where registrations and tokens live; default: the encrypted file in the user's config folder. */
  store?: TokenStore;
  fetch?: FetchLike;
  /**
   * Deadline of each request to the resource's metadata and the authorization server (discovery,
   * registration, token, revocation), body included; default 5000 ms. Requests to the MCP server
   * itself keep the caller's own signal and no deadline of ours (they may stream).
   */
  timeoutMs?: number;
  /** Milliseconds since the epoch; injectable so tests freeze time. */
  now?: () => number;
  /** How to get the user through the authorization endpoint; without it, only stored tokens are used. */
  interaction?: AuthorizationInteraction;
  /** Machine-to-machine: use the client_credentials grant with these credentials instead of a user. */
  clientCredentials?: Exclude<ClientAuthentication, { method: 'none' }>;
  registration?: RegistrationConfig;
  /** Refresh this long before expiry (ms); default 60 s. */
  refreshSkewMs?: number;
  /** Re-authorizations allowed per request on 403 insufficient_scope; default 2. */
  maxStepUps?: number;
  /** Ask for `offline_access` when the authorization server lists it; default true. */
  wantRefreshToken?: boolean;
}

/** What discovery found for the resource: its RFC 9728 metadata and its authorization server's. */
export interface DiscoveredContext {
  prm: ProtectedResourceMetadata;
  as: AuthorizationServerMetadata;
  /** The RFC 8707 resource indicator: the metadata's `resource`, verbatim. */
  resource: string;
  /** Where the protected-resource metadata was found. */
  resourceMetadataUrl: string;
}

type Context = DiscoveredContext;

interface Challenge {
  error?: string | undefined;
  scope?: string | undefined;
  resource_metadata?: string | undefined;
}

function readChallenge(res: Response): Challenge {
  const header = res.headers.get('www-authenticate');
  return (header && parseBearerChallenge(header)) || {};
}

/**
 * OAuth for one MCP server: discovery, registration, authorization with PKCE, token storage,
 * refresh (proactive, and reactive on 401 with one retry), step-up on 403, all behind `fetch`.
 *
 * Concurrent requests share one refresh (single-flight in the process, a store lock across
 * processes); a dead grant surfaces as `ClientError('reauthorization_required')`, never a loop.
 *
 * @example
 * const client = new OAuthClient({ resource: 'https://mcp.example.com/mcp', interaction: loopbackInteraction() });
 * const res = await client.fetch('https://mcp.example.com/mcp', { method: 'POST', body });
 * @see https://modelcontextprotocol.io/specification/2025-11-25/basic/authorization
 */
export class OAuthClient {
  readonly resourceUrl: URL;
  readonly store: TokenStore;
  /** A `fetch` that authenticates requests to the resource's origin. Bound; pass it around freely. */
  readonly fetch: FetchLike;
  readonly #fetch: FetchLike;
  readonly #now: () => number;
  readonly #timeoutMs: number | undefined;
  readonly #options: OAuthClientOptions;
  readonly #asCache = new Map<string, Promise<AuthorizationServerMetadata>>();
  readonly #refreshing = new Map<string, Promise<StoredTokens>>();
  readonly #authorizing = new Map<string, Promise<StoredTokens>>();
  #context: Context | undefined;

  constructor(options: OAuthClientOptions) {
    this.#options = options;
    this.resourceUrl = new URL(options.resource);
    this.store = options.store ?? new FileTokenStore();
    this.#fetch = options.fetch ?? ((input, init) => fetch(input, init));
    this.#now = options.now ?? Date.now;
    this.#timeoutMs = options.timeoutMs;
    this.fetch = (input, init) => this.#send(input, init);
  }

  /** What each outbound call gets: our fetch and deadline, and the caller's signal if any. */
  #io(signal?: AbortSignal): Outbound & { now: () => number } {
    return { fetch: this.#fetch, now: this.#now, timeoutMs: this.#timeoutMs, signal };
  }

  /** The tokens stored for this resource, if any (most recently updated first). */
  async storedTokens(): Promise<StoredTokens | undefined> {
    if (this.#context) return this.store.getTokens(this.#context.as.issuer, this.#context.resource);
    const all = await this.store.listTokens();
    return all
      .filter((t) => resourceCovers(t.resource, this.resourceUrl))
      .sort((a, b) => b.updated_at - a.updated_at)[0];
  }

  /**
   * A usable access token: the stored one, refreshed first when it expires within the skew.
   * `undefined` when nothing is stored (the first request then goes out without a token and the
   * server's 401 starts discovery). `signal` abandons the wait (a shared refresh goes on).
   */
  async accessToken(options: { signal?: AbortSignal | undefined } = {}): Promise<string | undefined> {
    return (await this.freshTokens(options))?.access_token;
  }

  /**
   * The stored tokens, refreshed first (single-flight, under the store's lock) when the access
   * token expires within the skew. A dead grant throws `ClientError('reauthorization_required')`.
   */
  async freshTokens(options: { signal?: AbortSignal | undefined } = {}): Promise<StoredTokens | undefined> {
    const tokens = await this.storedTokens();
    if (!tokens || !this.#expiringSoon(tokens)) return tokens;
    if (tokens.refresh_token) return untilAborted(this.#refresh(tokens, undefined), options.signal);
    if (this.#options.clientCredentials) return this.authorize(options);
    return tokens;
  }

  /**
   * Runs discovery and obtains new tokens now (interactive login, or client_credentials).
   * `challenge` is the 401/403 `WWW-Authenticate` content when there is one. `signal` abandons
   * the wait; an authorization shared with other callers goes on for them.
   */
  async authorize(
    options: { challenge?: Challenge; held?: string[]; signal?: AbortSignal | undefined } = {},
  ): Promise<StoredTokens> {
    const ctx = await this.#discover(options.challenge?.resource_metadata, options.signal);
    const key = tokensKey(ctx.as.issuer, ctx.resource);
    const running = this.#authorizing.get(key);
    if (running) return untilAborted(running, options.signal);
    const p = this.#authorize(ctx, options.challenge?.scope, options.held ?? []).finally(() =>
      this.#authorizing.delete(key),
    );
    this.#authorizing.set(key, p);
    return untilAborted(p, options.signal);
  }

  /** Forgets this resource's tokens, revoking the refresh token at the server when it can (RFC 7009). */
  async logout(options: { signal?: AbortSignal | undefined } = {}): Promise<boolean> {
    const tokens = await this.storedTokens();
    if (!tokens) return false;
    try {
      const as = await this.#asMetadata(tokens.issuer, options.signal);
      const auth = await this.#authFor(tokens);
      if (as.revocation_endpoint && auth && tokens.refresh_token) {
        const revocation: AuthorizationServerMetadata = { ...as, token_endpoint: as.revocation_endpoint };
        await requestToken(
          revocation,
          auth,
          { token: tokens.refresh_token, token_type_hint: 'refresh_token' },
          this.#io(options.signal),
        ).catch(() => {}); // RFC 7009 answers 200 with an empty body: not a token response.
      }
    } catch {
      // Revocation is best effort; forgetting the tokens is what logout promises.
    }
    await this.store.deleteTokens(tokens.issuer, tokens.resource);
    return true;
  }

  #expiringSoon(t: StoredTokens): boolean {
    return (
      t.expires_at !== undefined && t.expires_at - this.#now() <= (this.#options.refreshSkewMs ?? 60_000)
    );
  }

  async #send(input: string | URL | Request, init?: RequestInit): Promise<Response> {
    const original = new Request(input, init);
    const sameOrigin = new URL(original.url).origin === this.resourceUrl.origin;
    if (!sameOrigin) return this.#fetch(original);
    // The caller's signal also bounds the OAuth work this request triggers.
    const signal = init?.signal ?? (input instanceof Request ? input.signal : undefined) ?? undefined;
    const attempt = async (token: string | undefined) => {
      const req = original.clone();
      if (token) req.headers.set('authorization', `Bearer ${token}`);
      return this.#fetch(req);
    };

    let token = await this.accessToken({ signal });
    let res = await attempt(token);
    if (res.status === 401) {
      token = await this.#recover(readChallenge(res), token, signal);
      await res.body?.cancel();
      res = await attempt(token); // exactly one retry
    }
    let stepUps = 0;
    for (;;) {
      const challenge = readChallenge(res);
      if (res.status !== 403 || challenge.error !== 'insufficient_scope') return res;
      await res.body?.cancel();
      if (stepUps++ >= (this.#options.maxStepUps ?? 2)) {
        throw new ClientError('step_up_limit', `the server still requires scope "${challenge.scope ?? ''}"`);
      }
      const held = parseScope((await this.storedTokens())?.scope);
      token = (await this.authorize({ challenge, held, signal })).access_token;
      res = await attempt(token);
    }
  }

  /** After a 401: rediscover (the server may have moved), then refresh or authorize. */
  async #recover(challenge: Challenge, rejected: string | undefined, signal?: AbortSignal): Promise<string> {
    const ctx = await this.#discover(challenge.resource_metadata, signal);
    const tokens = await this.store.getTokens(ctx.as.issuer, ctx.resource);
    if (tokens && tokens.access_token !== rejected && !this.#expiringSoon(tokens)) return tokens.access_token;
    if (tokens?.refresh_token)
      return (await untilAborted(this.#refresh(tokens, rejected), signal)).access_token;
    return (await this.authorize({ challenge, signal })).access_token;
  }

  /**
   * RFC 9728 then RFC 8414 discovery, with every check (resource covers the URL, issuer echoed,
   * S256 listed, https endpoints). `resourceMetadataUrl` is the 401 challenge's, when there is one.
   */
  discover(
    resourceMetadataUrl?: string,
    options: { signal?: AbortSignal | undefined } = {},
  ): Promise<DiscoveredContext> {
    return this.#discover(resourceMetadataUrl, options.signal);
  }

  async #discover(resourceMetadataUrl?: string, signal?: AbortSignal): Promise<Context> {
    let prm: ProtectedResourceMetadata;
    let foundAt: string;
    try {
      ({ metadata: prm, url: foundAt } = await discoverProtectedResource(this.resourceUrl, {
        ...this.#io(signal),
        resourceMetadataUrl,
      }));
    } catch (err) {
      if (!(err instanceof ClientError) || err.code !== 'discovery_failed' || resourceMetadataUrl) throw err;
      // Not at the well-known locations: ask the server itself for its challenge.
      const url = await withClientDeadline(
        this.#io(signal),
        this.resourceUrl,
        'discovery_failed',
        async (signal) => {
          const probe = await this.#fetch(this.resourceUrl, {
            method: 'POST',
            headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
            body: JSON.stringify({ jsonrpc: '2.0', id: 0, method: 'ping' }),
            signal,
          });
          await probe.body?.cancel();
          return readChallenge(probe).resource_metadata;
        },
      );
      if (!url) throw err;
      ({ metadata: prm, url: foundAt } = await discoverProtectedResource(this.resourceUrl, {
        ...this.#io(signal),
        resourceMetadataUrl: url,
      }));
    }
    const issuer = prm.authorization_servers?.[0] as string;
    const as = await this.#asMetadata(issuer, signal);
    this.#context = { prm, as, resource: prm.resource, resourceMetadataUrl: foundAt };
    return this.#context;
  }

  /** Cached and shared: its requests have our deadline only; `signal` abandons just this wait. */
  #asMetadata(issuer: string, signal?: AbortSignal): Promise<AuthorizationServerMetadata> {
    let p = this.#asCache.get(issuer);
    if (!p) {
      p = discoverAuthorizationServer(issuer, this.#io());
      p.catch(() => this.#asCache.delete(issuer));
      this.#asCache.set(issuer, p);
    }
    return untilAborted(p, signal);
  }

  /** The client authentication that goes with stored tokens, or undefined when it is gone. */
  async #authFor(tokens: StoredTokens): Promise<ClientAuthentication | undefined> {
    const cc = this.#options.clientCredentials;
    if (cc && cc.client_id === tokens.client_id) return cc;
    const pre = this.#options.registration?.preRegistered?.find(
      (p) => p.client_id === tokens.client_id && (!p.issuer || p.issuer === tokens.issuer),
    );
    if (pre) {
      const as = await this.#asMetadata(tokens.issuer);
      return clientAuthentication(
        await resolveClient(as, {
          store: this.store,
          ...this.#io(),
          redirectUri: undefined,
          config: { preRegistered: [pre] },
        }),
      );
    }
    const stored = await this.store.getClient(tokens.issuer);
    if (stored?.client_id === tokens.client_id) return clientAuthentication(stored);
    if (/^https:\/\//.test(tokens.client_id)) return { method: 'none', client_id: tokens.client_id };
    return undefined;
  }

  /**
   * Refreshes now unless someone else already replaced `tokens` (single-flight in this process,
   * under the store's lock across processes). For callers that saw the access token refused.
   */
  refresh(tokens: StoredTokens): Promise<StoredTokens> {
    return this.#refresh(tokens, tokens.access_token);
  }

  /**
   * Single-flight refresh. `rejected` is the access token a server just refused: when the stored
   * token already differs, someone else refreshed and we use theirs.
   *
   * @see https://www.rfc-editor.org/rfc/rfc6749#section-6
   */
  #refresh(tokens: StoredTokens, rejected: string | undefined): Promise<StoredTokens> {
    const key = tokensKey(tokens.issuer, tokens.resource);
    const running = this.#refreshing.get(key);
    if (running) return running;
    const p = this.store
      .withLock(`refresh ${key}`, async () => {
        const latest = await this.store.getTokens(tokens.issuer, tokens.resource);
        if (!latest?.refresh_token) {
          throw new ClientError('reauthorization_required', 'no refresh token is stored: log in again');
        }
        const replaced = latest.access_token !== (rejected ?? tokens.access_token);
        if (replaced && !this.#expiringSoon(latest)) return latest;
        const as = await this.#asMetadata(latest.issuer);
        const auth = await this.#authFor(latest);
        if (!auth)
          throw new ClientError('reauthorization_required', 'the client registration is gone: log in again');
        let response: TokenResponse;
        try {
          response = await requestToken(
            as,
            auth,
            { grant_type: 'refresh_token', refresh_token: latest.refresh_token, resource: latest.resource },
            this.#io(),
          );
        } catch (err) {
          if (err instanceof ClientError && err.code === 'reauthorization_required') {
            await this.store.deleteTokens(latest.issuer, latest.resource);
          }
          throw err;
        }
        const next = this.#toStored(
          response,
          latest.issuer,
          latest.resource,
          latest.client_id,
          latest.scope,
          latest,
        );
        await this.store.setTokens(next);
        return next;
      })
      .finally(() => this.#refreshing.delete(key));
    this.#refreshing.set(key, p);
    return p;
  }

  async #authorize(ctx: Context, challengeScope: string | undefined, held: string[]): Promise<StoredTokens> {
    const { as, prm, resource } = ctx;
    const scope = selectScope({
      challengeScope,
      resourceScopesSupported: prm.scopes_supported,
      serverScopesSupported: as.scopes_supported,
      held,
      wantRefreshToken: this.#options.wantRefreshToken ?? !this.#options.clientCredentials,
    });
    // Shared with concurrent callers (single-flight): our deadline applies, not one caller's signal.
    const io = this.#io();

    const cc = this.#options.clientCredentials;
    if (cc) {
      const response = await requestToken(as, cc, { grant_type: 'client_credentials', scope, resource }, io);
      const tokens = this.#toStored(response, as.issuer, resource, cc.client_id, scope);
      await this.store.setTokens(tokens);
      return tokens;
    }

    const interaction = this.#options.interaction;
    if (!interaction) {
      throw new ClientError('reauthorization_required', `not authorized for ${resource}: log in first`);
    }
    const pending = await interaction.begin();
    try {
      const client = await resolveClient(as, {
        store: this.store,
        ...io,
        redirectUri: pending.redirectUri,
        config: this.#options.registration ?? {},
      });
      const { code_verifier, code_challenge } = createPkcePair();
      const state = randomToken(16);
      const url = buildAuthorizationUrl(as, {
        client_id: client.client_id,
        redirect_uri: pending.redirectUri,
        state,
        code_challenge,
        resource,
        scope,
      });
      const callback = await pending.complete(url);
      const code = parseAuthorizationResponse(callback, {
        state,
        issuer: as.issuer,
        issRequired: as.authorization_response_iss_parameter_supported === true,
      });
      const response = await requestToken(
        as,
        clientAuthentication(client),
        {
          grant_type: 'authorization_code',
          code,
          redirect_uri: pending.redirectUri,
          code_verifier,
          resource,
        },
        io,
      );
      const tokens = this.#toStored(response, as.issuer, resource, client.client_id, scope);
      await this.store.setTokens(tokens);
      return tokens;
    } finally {
      await pending.close();
    }
  }

  #toStored(
    r: TokenResponse,
    issuer: string,
    resource: string,
    client_id: string,
    requestedScope: string | undefined,
    previous?: StoredTokens,
  ): StoredTokens {
    const now = this.#now();
    const refresh = r.refresh_token ?? previous?.refresh_token;
    const scope = r.scope ?? requestedScope;
    return {
      issuer,
      resource,
      client_id,
      access_token: r.access_token,
      token_type: r.token_type,
      ...(typeof r.expires_in === 'number' ? { expires_at: now + r.expires_in * 1000 } : {}),
      ...(refresh ? { refresh_token: refresh } : {}),
      ...(scope ? { scope } : {}),
      updated_at: now,
    };
  }
}

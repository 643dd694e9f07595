import type {
  AuthorizationServerMetadata,
  ProtectedResourceMetadata,
  RevocationSource,
} from '@gatehouse/core';
import {
  DEFAULT_DEADLINE_MS,
  errorResponse,
  narrowScopes,
  OAuthError,
  payloadTooLarge,
  readBodyBytes,
  readBodyText,
  utf8,
} from '@gatehouse/core';
import { discoverAuthorizationServer } from './as-metadata.ts';
import { extractBearerToken } from './bearer.ts';
import { DEFAULT_MAX_BODY_BYTES } from './body.ts';
import { challengeResponse } from './challenge.ts';
import { introspectAccessToken } from './introspection.ts';
import { RemoteKeySet } from './jwks.ts';
import { type McpScopeManifest, manifestScopes } from './mcp/manifest.ts';
import { challengeScopes, isSatisfied, requestRequirements } from './mcp/policy.ts';
import {
  type McpOperation,
  McpRequestError,
  mcpOperationsOf,
  parseJsonBody,
  readMcpOperations,
} from './mcp/request.ts';
import {
  buildProtectedResourceMetadata,
  PROTECTED_RESOURCE_WELL_KNOWN,
  protectedResourceMetadataPath,
  protectedResourceMetadataResponse,
  protectedResourceMetadataUrl,
} from './metadata.ts';
import { forbiddenOriginResponse, isOriginAllowed, normalizeOrigins } from './origin.ts';
import { RevocationFeed } from './revocation-feed.ts';
import { TokenCache } from './token-cache.ts';
import type { AuthInfo } from './verified-token.ts';
import { looksLikeJwt, verifyJwtAccessToken } from './verify-jwt.ts';

/** Core's body reader refuses an over-limit body with a 413 OAuthError, which the guard answers as is. */
const isPayloadTooLarge = (err: unknown): err is OAuthError =>
  err instanceof OAuthError && err.status === 413;

/** Asymmetric JWS algorithms only: `none` and HMAC (a shared secret with the AS) are refused. */
export const DEFAULT_ALGORITHMS = [
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'Ed25519',
  'RS256',
  'PS256',
  'PS384',
  'PS512',
];

/** Every option of the guard, with its default. */
export interface GuardOptions {
  /** This resource's canonical URI (RFC 8707), e.g. `https://mcp.example.com/mcp`; tokens must name it in `aud`. */
  resource: string;
  /** Issuer identifiers of the trusted authorization servers (RFC 8414 `issuer`, exact strings). */
  authorizationServers: string[];
  /** RFC 9728 `scopes_supported`; default: every scope of the manifest. `offline_access` is always dropped. */
  scopesSupported?: string[];
  /** Per-tool/resource/prompt scopes; `false` turns the MCP policy off (plain bearer protection). Default `{}`. */
  manifest?: McpScopeManifest | false;
  /** In-process revocation (the AS's own `RevocationSource`): seen at once. */
  revocations?: RevocationSource;
  /**
   * Follow the AS's revocation feed; `true` = `<first issuer>/oauth/revocations`. Default off.
   * Fails closed: until the first full list has arrived, and once no answer has come for
   * `maxStalenessSeconds` (default 90, about three long polls), requests with a token get 503
   * `temporarily_unavailable` with `Retry-After` instead of being let through unchecked.
   */
  revocationFeed?:
    | boolean
    | { url?: string; maxStalenessSeconds?: number; waitSeconds?: number; retryDelaysMs?: readonly number[] };
  /** Origins allowed to call (DNS-rebinding defence). Default: the resource's own origin. */
  allowedOrigins?: string[];
  /** Used for metadata, JWKS, introspection and the feed; never for the client's token. */
  fetch?: typeof fetch;
  /**
   * Deadline of each request to the AS (metadata, JWKS, introspection, the feed's full list),
   * body included; a feed long poll gets its `wait` plus this. Default 5000 ms.
   */
  timeoutMs?: number;
  /** Milliseconds since the epoch; inject to freeze time in tests. */
  now?: () => number;
  jwt?: {
    /** Default {@link DEFAULT_ALGORITHMS}. */
    algorithms?: string[];
    /** Expected `typ` header; default `at+jwt` (RFC 9068 §2.1). `null` accepts any, for ASes that send `JWT`. */
    typ?: string | null;
    /** Allowed clock skew for `exp`/`nbf`/`iat`; default 30 s. */
    clockToleranceSeconds?: number;
  };
  /**
   * Opaque (non-JWT) tokens are validated by RFC 7662 introspection with these credentials. Default
   * off. On a Gatehouse AS they must be a client registered as a protected resource (`gatehouse
   * clients add --confidential --resource-server`); any other client gets 401 (RFC 7662 §2.1, §4).
   */
  introspection?: { clientId: string; clientSecret: string; cacheSeconds?: number };
  /**
   * Keys: refetched after `maxAgeMs` (default 10 min); an unknown `kid` refetches at most every
   * `cooldownMs` (default 30 s). A failed refetch keeps the last good keys and is retried after
   * `cooldownMs`, doubling while it keeps failing, but for `maxStaleMs` at most (default 24 h):
   * keys older than that are not trusted, and tokens get 503 until a refetch succeeds.
   */
  keys?: { maxAgeMs?: number; cooldownMs?: number; maxStaleMs?: number };
  /** Verified-token cache size; default 10 000 entries (0 disables). */
  tokenCacheSize?: number;
  /** `scope` of a 401 challenge when the operation itself needs none (e.g. `initialize`). Default: `scopes_supported`. */
  challengeScopes?: string[];
  /** RFC 9728 `resource_name`. */
  resourceName?: string;
  /** Largest request body the guard reads; default 4 MiB. */
  maxBodyBytes?: number;
  /**
   * Reports internal failures (AS unreachable, a failed key refresh or feed poll, handler crash).
   * Never receives tokens: an error that quotes the request's credentials is replaced by a notice.
   */
  onError?: (error: unknown) => void;
}

/** A request that passed the guard: who is calling, and the MCP operations it performs. */
export interface GuardedRequest {
  auth: AuthInfo;
  operations: McpOperation[];
  /** The body as parsed JSON (or undefined), for SDK transports that accept `parsedBody`. */
  parsedBody: unknown;
}

/**
 * What `wrap` calls for an authorized request. `guarded.parsedBody` is the body the guard already
 * parsed: hand it to the MCP SDK (`handler.fetch(request, { authInfo, parsedBody })`) so that the
 * body is not read and parsed a second time. The request's body stays readable either way.
 */
export type GuardedHandler = (request: Request, auth: AuthInfo, guarded: GuardedRequest) => Promise<Response>;

export interface Guard {
  readonly resource: string;
  /** Absolute URL of the RFC 9728 document, as sent in challenges. */
  readonly resourceMetadataUrl: string;
  /** The RFC 9728 §2 document. */
  protectedResourceMetadata(): ProtectedResourceMetadata;
  /** Answers the well-known metadata routes (path-inserted and root form); undefined for other paths. */
  serveMetadata(request: Request): Response | undefined;
  /** Origin, bearer token, signature, claims, revocation: the caller, or the challenge to send. */
  authenticate(request: Request): Promise<AuthInfo | Response>;
  /**
   * Everything `wrap` checks before calling the handler: authentication and the MCP scope policy.
   * Reads the body from a clone, so `request` stays readable; an adapter that holds the body
   * already passes it as `body` (then the request's own body, if any, is not read at all).
   */
  check(request: Request, body?: Uint8Array | string): Promise<GuardedRequest | Response>;
  /** A web handler that serves the metadata and lets only authorized requests through to `handler`. */
  wrap(handler: GuardedHandler): (request: Request) => Promise<Response>;
  /**
   * Resolves when the revocation feed (if any) has applied its first full list. While the AS is
   * down this waits (meanwhile requests with a token get 503); bound it with `signal`, e.g.
   * `guard.ready({ signal: AbortSignal.timeout(10_000) })`, which then rejects with its reason.
   */
  ready(options?: { signal?: AbortSignal }): Promise<void>;
  /** Stops the revocation feed and aborts every request to the AS in flight. */
  close(): void;
}

/**
 * Creates the resource-server guard for an MCP server (or any API) that trusts one or more
 * RFC 8414 authorization servers issuing JWT access tokens.
 *
 * @example
 * const guard = createGuard({ resource: 'https://mcp.example.com/mcp', authorizationServers: ['https://auth.example.com'] });
 * export default {
 *   fetch: guard.wrap((req, auth, { parsedBody }) => mcp.fetch(req, { authInfo: auth, parsedBody })),
 * };
 *
 * @see https://www.rfc-editor.org/rfc/rfc9728
 * @see https://www.rfc-editor.org/rfc/rfc6750
 * @see https://www.rfc-editor.org/rfc/rfc9068
 */
export function createGuard(options: GuardOptions): Guard {
  const resource = options.resource;
  if (new URL(resource).hash) throw new TypeError('resource must not contain a fragment (RFC 8707 §2)');
  if (options.authorizationServers.length === 0)
    throw new TypeError('authorizationServers must not be empty');
  const now = options.now ?? Date.now;
  const fetchFn = options.fetch ?? globalThis.fetch;
  const manifest = options.manifest === false ? undefined : (options.manifest ?? {});
  const algorithms = options.jwt?.algorithms ?? DEFAULT_ALGORITHMS;
  if (algorithms.some((a) => a === 'none' || /^HS/.test(a)))
    throw new TypeError('only asymmetric algorithms are allowed');
  const clockToleranceSeconds = options.jwt?.clockToleranceSeconds ?? 30;
  const onError = options.onError ?? (() => {});
  const timeoutMs = options.timeoutMs ?? DEFAULT_DEADLINE_MS;
  // close() aborts whatever the guard is asking the AS (the feed has its own).
  const closed = new AbortController();
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;

  const scopesSupported = options.scopesSupported ?? (manifest ? manifestScopes(manifest) : []);
  const metadata = buildProtectedResourceMetadata({
    resource,
    authorizationServers: options.authorizationServers,
    scopesSupported,
    resourceName: options.resourceName,
  });
  const resourceMetadataUrl = protectedResourceMetadataUrl(resource);
  const metadataPaths = new Set([protectedResourceMetadataPath(resource), PROTECTED_RESOURCE_WELL_KNOWN]);
  const defaultChallengeScopes = options.challengeScopes ?? metadata.scopes_supported ?? [];
  const allowedOrigins = normalizeOrigins(options.allowedOrigins ?? [new URL(resource).origin]);

  // Authorization server metadata, discovered once per issuer; a failure is retried next time.
  const asMetadata = new Map<string, Promise<AuthorizationServerMetadata>>();
  const discover = (issuer: string) => {
    let pending = asMetadata.get(issuer);
    if (!pending) {
      pending = discoverAuthorizationServer(issuer, fetchFn, { timeoutMs, signal: closed.signal });
      pending.catch(() => asMetadata.delete(issuer));
      asMetadata.set(issuer, pending);
    }
    return pending;
  };
  const keySets = new Map(
    options.authorizationServers.map((issuer) => [
      issuer,
      new RemoteKeySet({
        jwksUri: async () => {
          const { jwks_uri } = await discover(issuer);
          if (!jwks_uri) throw new Error(`authorization server ${issuer} publishes no jwks_uri`);
          return jwks_uri;
        },
        fetch: fetchFn,
        now,
        maxAgeMs: options.keys?.maxAgeMs ?? 10 * 60_000,
        cooldownMs: options.keys?.cooldownMs ?? 30_000,
        maxStaleMs: options.keys?.maxStaleMs ?? 24 * 3600_000,
        timeoutMs,
        signal: closed.signal,
        onError,
      }),
    ]),
  );
  const primaryIssuer = options.authorizationServers[0] as string;
  const introspection = options.introspection;
  const cache = new TokenCache<AuthInfo>({ maxEntries: options.tokenCacheSize ?? 10_000, now });

  const feedOption = options.revocationFeed;
  const feedConfig = typeof feedOption === 'object' ? feedOption : {};
  const feed = feedOption
    ? new RevocationFeed({
        url: feedConfig.url ?? `${primaryIssuer.replace(/\/$/, '')}/oauth/revocations`,
        fetch: fetchFn,
        now,
        onError,
        timeoutMs,
        ...(feedConfig.maxStalenessSeconds !== undefined
          ? { maxStalenessSeconds: feedConfig.maxStalenessSeconds }
          : {}),
        ...(feedConfig.waitSeconds !== undefined ? { waitSeconds: feedConfig.waitSeconds } : {}),
        ...(feedConfig.retryDelaysMs !== undefined ? { retryDelaysMs: feedConfig.retryDelaysMs } : {}),
      })
    : undefined;

  /**
   * Fail closed: while the feed cannot vouch for its list (not yet synced, or stale), a token
   * might be revoked without our knowing, so none is accepted. A request that arrives before the
   * first answer waits for the first attempt (bounded by its deadline), not for every retry.
   */
  async function feedUnavailable(): Promise<OAuthError | undefined> {
    if (!feed) return undefined;
    if (feed.state() === 'syncing') await feed.settled();
    const state = feed.state();
    if (state === 'live') return undefined;
    const description =
      state === 'stale'
        ? 'The revocation list is out of date: the authorization server has not been reachable.'
        : 'The revocation list is not available yet: the authorization server is not reachable.';
    return new OAuthError('temporarily_unavailable', description, {
      headers: { 'retry-after': String(feed.retryAfterSeconds()) },
    });
  }

  /** onError, minus anything that quotes the request's credentials (a handler's error might). */
  function report(err: unknown, request: Request): void {
    const credentials = request.headers
      .get('authorization')
      ?.replace(/^\S+\s+/, '')
      .trim();
    onError(credentials && quotes(err, credentials) ? new Error(REDACTED_REPORT) : err);
  }

  async function verify(token: string): Promise<AuthInfo> {
    const cached = cache.get(token);
    if (cached) return cached;
    let auth: AuthInfo;
    let cacheUntilMs: number;
    if (looksLikeJwt(token)) {
      auth = await verifyJwtAccessToken(token, {
        resource,
        keySets,
        algorithms,
        typ: options.jwt?.typ === undefined ? 'at+jwt' : options.jwt.typ,
        clockToleranceSeconds,
        now,
      });
      cacheUntilMs = auth.expiresAt * 1000;
    } else if (introspection) {
      auth = await introspectAccessToken(token, {
        endpoint: async () => {
          const { introspection_endpoint } = await discover(primaryIssuer);
          if (!introspection_endpoint)
            throw new Error('authorization server publishes no introspection_endpoint');
          return introspection_endpoint;
        },
        clientId: introspection.clientId,
        clientSecret: introspection.clientSecret,
        resource,
        issuers: new Set(options.authorizationServers),
        fetch: fetchFn,
        now,
        clockToleranceSeconds,
        timeoutMs,
        signal: closed.signal,
      });
      // Briefly: an opaque token's revocation is only learned by asking again.
      cacheUntilMs = Math.min(auth.expiresAt * 1000, now() + (introspection.cacheSeconds ?? 30) * 1000);
    } else {
      throw new OAuthError('invalid_token', 'The access token is invalid.');
    }
    cache.set(token, auth, cacheUntilMs);
    return auth;
  }

  function isRevoked(auth: AuthInfo): boolean {
    const ids = { jti: auth.tokenId ?? '', ...(auth.grantId ? { gid: auth.grantId } : {}) };
    return (options.revocations?.isRevoked(ids) ?? false) || (feed?.isRevoked(ids) ?? false);
  }

  /**
   * A grant narrowed since the token was issued: the token still verifies, but its scopes shrink
   * to what the user left before any scope check or handler sees them (the cached entry is kept).
   */
  function narrowed(auth: AuthInfo): AuthInfo {
    const gid = auth.grantId;
    if (gid === undefined) return auth;
    let scopes = auth.scopes;
    for (const source of [options.revocations, feed]) {
      const cap = source?.narrowedScope?.(gid);
      if (cap) scopes = narrowScopes(scopes, cap);
    }
    return scopes === auth.scopes ? auth : { ...auth, scopes };
  }

  async function authenticateWith(
    request: Request,
    hintScopes: () => readonly string[],
  ): Promise<AuthInfo | Response> {
    if (!isOriginAllowed(request, allowedOrigins)) return forbiddenOriginResponse();
    try {
      const token = extractBearerToken(request);
      if (token === undefined) {
        const needed = hintScopes();
        return challengeResponse({
          resourceMetadataUrl,
          scopes: needed.length ? needed : defaultChallengeScopes,
        });
      }
      const unavailable = await feedUnavailable();
      if (unavailable) return errorResponse(unavailable);
      const auth = await verify(token);
      if (isRevoked(auth)) throw new OAuthError('invalid_token', 'The access token has been revoked.');
      return narrowed(auth);
    } catch (err) {
      if (err instanceof OAuthError && (err.code === 'invalid_token' || err.code === 'invalid_request')) {
        return challengeResponse({ resourceMetadataUrl, error: err, scopes: defaultChallengeScopes });
      }
      report(err, request);
      if (
        err instanceof OAuthError &&
        err.code === 'temporarily_unavailable' &&
        !err.headers['retry-after']
      ) {
        return errorResponse(
          new OAuthError(err.code, err.description, { headers: { ...err.headers, 'retry-after': '5' } }),
        );
      }
      return errorResponse(err instanceof OAuthError ? err : new OAuthError('server_error'));
    }
  }

  /** Authentication, then the MCP scope policy, on a body already read; parses it once. */
  async function inspect(request: Request, text: string): Promise<GuardedRequest | Response> {
    // Without a token, name the scopes the attempted operation needs, when the body says.
    const hint = () => {
      if (!manifest) return [];
      try {
        return challengeScopes(requestRequirements(readMcpOperations(request.headers, text), manifest));
      } catch {
        return [];
      }
    };
    const auth = await authenticateWith(request, hint);
    if (auth instanceof Response) return auth;
    let operations: McpOperation[] = [];
    let parsedBody: unknown;
    if (manifest) {
      try {
        parsedBody = parseJsonBody(text);
        operations = mcpOperationsOf(request.headers, parsedBody);
      } catch (err) {
        if (err instanceof McpRequestError) return err.toResponse();
        throw err;
      }
      const requirements = requestRequirements(operations, manifest);
      if (!requirements.every((r) => isSatisfied(auth.scopes, r))) {
        const error = new OAuthError(
          'insufficient_scope',
          'The access token lacks a scope this request needs.',
        );
        return challengeResponse({ resourceMetadataUrl, error, scopes: challengeScopes(requirements) });
      }
    } else {
      try {
        parsedBody = parseJsonBody(text);
      } catch {
        parsedBody = undefined;
      }
    }
    return { auth, operations, parsedBody };
  }

  const guard: Guard = {
    resource,
    resourceMetadataUrl,
    protectedResourceMetadata: () => structuredClone(metadata),
    serveMetadata(request) {
      // Every request passes here: parse its URL only when it can be a metadata request.
      const url = request.url;
      if (!url.includes(PROTECTED_RESOURCE_WELL_KNOWN)) return undefined;
      const { pathname } = new URL(url);
      return metadataPaths.has(pathname) ? protectedResourceMetadataResponse(request, metadata) : undefined;
    },
    authenticate: (request) => authenticateWith(request, () => []),

    async check(request, body) {
      try {
        if (body === undefined)
          return await inspect(request, await readBodyText(request.clone(), maxBodyBytes));
        const size = typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength;
        if (size > maxBodyBytes) throw payloadTooLarge(maxBodyBytes);
        return await inspect(request, typeof body === 'string' ? body : utf8(body));
      } catch (err) {
        if (isPayloadTooLarge(err)) return errorResponse(err);
        throw err;
      }
    },

    wrap(handler) {
      return async (request) => {
        const served = guard.serveMetadata(request);
        if (served) return served;
        try {
          // The body is read once, here, not from a clone (a clone tees the stream: dearer than
          // the rest of the guard); the handler gets a request rebuilt from the same bytes.
          let bytes: Uint8Array | undefined;
          try {
            bytes = await readBodyBytes(request, maxBodyBytes);
          } catch (err) {
            if (isPayloadTooLarge(err)) return errorResponse(err);
            throw err;
          }
          const result = await inspect(request, utf8(bytes));
          if (result instanceof Response) return result;
          const forwarded =
            bytes === undefined
              ? request
              : new Request(request.url, {
                  method: request.method,
                  headers: request.headers,
                  body: bytes as Uint8Array<ArrayBuffer>,
                  signal: request.signal,
                });
          return await handler(forwarded, result.auth, result);
        } catch (err) {
          report(err, request);
          return errorResponse(new OAuthError('server_error'));
        }
      };
    },

    ready: async (readyOptions = {}) => {
      await feed?.ready(readyOptions);
    },
    close: () => {
      closed.abort();
      feed?.close();
    },
  };
  return guard;
}

const REDACTED_REPORT = 'an error report was withheld because it quoted the request credentials';

/** True when the error's message, stack or causes (a few levels deep) contain `secret`. */
function quotes(err: unknown, secret: string, depth = 0): boolean {
  if (depth > 4 || err === null || err === undefined) return false;
  if (typeof err === 'string') return err.includes(secret);
  if (typeof err !== 'object') return String(err).includes(secret);
  const e = err as { message?: unknown; stack?: unknown; cause?: unknown };
  return (
    quotes(e.message, secret, depth + 1) ||
    quotes(e.stack, secret, depth + 1) ||
    quotes(e.cause, secret, depth + 1)
  );
}

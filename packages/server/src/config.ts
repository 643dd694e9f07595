import { defaultScopes, isLoopbackHost, OFFLINE_ACCESS, type ScopeDefinition } from '@gatehouse/core';
import {
  type IdentityProvider,
  type IdentityProviderConfig,
  resolveIdentityProviders,
} from './federation/config.ts';
import type { Store } from './store/types.ts';
import type { UpstreamConnectionConfig } from './vault/upstream-client.ts';

/**
 * Every configuration key of the authorization server, with its default. Times are seconds.
 */
export interface AuthorizationServerConfig {
  /**
   * The issuer identifier (RFC 8414 §2): an https URL, or http on localhost for development, with
   * no path, query, fragment or trailing slash. Gatehouse serves its metadata and endpoints at the
   * root of its own host name (e.g. https://auth.example.com).
   */
  issuer: string;
  /** Where clients, users, grants, tokens and keys live (SQLite, PostgreSQL, or any other Store). */
  store: Store;
  /**
   * The master secret from which the store HMAC key and the at-rest encryption key derive. It is
   * handed to the secrets module only and never kept on the resolved config.
   */
  masterSecret: string;
  /** Resources (RFC 8707) this AS issues tokens for. Default: `<issuer>/mcp`. */
  resources?: string[];
  /** The resource used when an authorization request names none. Default: the first resource. */
  defaultResource?: string;
  /** The scope catalogue with consent sentences. Default: the MCP scopes. */
  scopes?: readonly ScopeDefinition[];
  /** Scopes granted when a request names none. Default: every scope in the catalogue. */
  defaultScopes?: string[];
  /**
   * The consent page's choices. Each requested scope is a checkbox, ticked unless listed in
   * `uncheckedByDefault`; a scope listed in `required` (or under one, e.g. `tools:execute` makes
   * `tools:execute:filesystem` required) cannot be unticked: it is granted whenever the user
   * approves a request that names it. Neither list adds a scope the client did not request.
   * Names must be in the catalogue (or `offline_access`). Default: none required, all ticked.
   */
  consent?: {
    /** Scopes the user cannot untick, e.g. `['tools:list']`. Default []. */
    required?: string[];
    /** Scopes offered unticked, e.g. `['tools:execute:database']`. Default []. */
    uncheckedByDefault?: string[];
  };
  /**
   * The tools a resource offers and the scope each needs, so the consent page can name the tools a
   * scope unlocks ("read_file, write_file and 12 more"). Called once per consent page; should it
   * fail or take longer than 2 s, the page shows the sentences alone. Default: no tool names.
   *
   * @example toolsOf: async () => Object.entries(manifest.tools).map(([name, scope]) => ({ name, scope }))
   */
  toolsOf?: (resource: string) => Promise<Array<{ name: string; scope: string }>>;
  /**
   * The upstream API connections (ids of `connections`) the MCP server at `resource` calls with
   * each user's own token, so its consent page can offer to connect the ones the user has not
   * (or must reconnect) before approving. Default: none.
   *
   * @example connectionsOf: (resource) => (resource.endsWith('/mcp/github') ? ['github'] : [])
   */
  connectionsOf?: (resource: string) => readonly string[];
  /** Access token lifetime, 900–3600. Default 3600. */
  accessTokenTtl?: number;
  /** Refresh token absolute lifetime. Default 30 days. */
  refreshTokenTtl?: number;
  /** A refresh token unused for this long stops working (idle limit). Default 14 days. */
  refreshTokenIdleTtl?: number;
  /**
   * A retry of an already-rotated refresh token within this window (a lost response, parallel
   * refreshes) gets the same successor instead of an error. Default 30.
   */
  refreshRetryWindow?: number;
  /** Authorization code lifetime. Default 60. */
  codeTtl?: number;
  /** Login session lifetime. Default 12 hours. */
  sessionTtl?: number;
  /**
   * The admin console (`/admin`) treats a session older than this as signed out, so a forgotten
   * browser holds admin power for less time than ordinary access. Default 1 hour.
   */
  adminSessionTtl?: number;
  /** Dynamic client registration (RFC 7591) at `/oauth/register`. */
  registration?: {
    /** Whether the endpoint exists (and is advertised in the metadata). Default true. */
    enabled?: boolean;
    /** How many self-registered clients may exist at once. Default 10,000. */
    maxClients?: number;
    /** Registrations per client address per hour. Default 20. */
    perIpPerHour?: number;
    /**
     * Whether a self-registered client (DCR, or a Client ID Metadata Document) may use
     * `client_credentials`. Default false: such a client gets tokens with no person approving
     * anything, so open registration would hand tokens to anyone who asks. Pre-registered clients
     * (`gatehouse clients add --confidential`) always may.
     */
    clientCredentials?: boolean;
  };
  /** Failed token requests (bad client credentials, codes, refresh tokens) per address in 15 minutes. Default 100. */
  tokenFailuresPer15Minutes?: number;
  /**
   * Upstream identity providers people may sign in with ("Continue with …" on the sign-in pages).
   * Users are keyed by (provider, subject). Default: none.
   */
  identityProviders?: IdentityProviderConfig[];
  /**
   * Whether the sign-in pages offer Gatehouse's own username and password. Default true; false
   * needs at least one identity provider.
   */
  passwordSignIn?: boolean;
  /** Failed logins allowed per username and per address in 15 minutes. Default 10. */
  loginAttemptsPer15Minutes?: number;
  /** Client ID Metadata Documents: an https URL as `client_id`, its document fetched by the server. */
  clientIdMetadataDocuments?: {
    /** Whether such client ids are accepted (and advertised in the metadata). Default true. */
    enabled?: boolean;
    /** For local development only: fetch documents from private and loopback addresses. Default false. */
    dangerouslyAllowPrivateNetworks?: boolean;
    /** For local development only: accept http document URLs. Default false. */
    dangerouslyAllowInsecureHttp?: boolean;
    /**
     * The DNS resolver for these documents and for clients' `jwks_uri`; the address it returns is
     * checked and then connected to. Default: the system resolver. Tests inject one for loopback.
     */
    resolve?: (hostname: string) => Promise<{ address: string; family: 4 | 6 }[]>;
  };
  /**
   * Upstream API connections of the token vault, by id (the configuration file's `connections`):
   * users connect their accounts at `/connect/<id>`. Their client secrets stay with the vault.
   * Default: none.
   */
  connections?: ReadonlyMap<string, UpstreamConnectionConfig>;
  /** The clock, in seconds. Tests freeze it. */
  now?: () => number;
  /**
   * Unexpected errors; default: one JSON line on stderr with the request id, never a secret or token.
   * The client gets a bare `server_error` either way.
   */
  onError?: (error: unknown, context: { requestId: string; method: string; path: string }) => void;
}

/** The configuration with its defaults filled in. It holds no secret: the master secret stays out. */
export type ResolvedConfig = Required<
  Omit<
    AuthorizationServerConfig,
    | 'masterSecret'
    | 'registration'
    | 'clientIdMetadataDocuments'
    | 'onError'
    | 'consent'
    | 'connections'
    | 'identityProviders'
  >
> & {
  /** The providers without their client secrets (the federation module keeps those). */
  identityProviders: IdentityProvider[];
  registration: Required<NonNullable<AuthorizationServerConfig['registration']>>;
  consent: Required<NonNullable<AuthorizationServerConfig['consent']>>;
  clientIdMetadataDocuments: NonNullable<AuthorizationServerConfig['clientIdMetadataDocuments']>;
  /** Undefined: the HTTP layer's default (one JSON line on stderr). */
  onError: AuthorizationServerConfig['onError'];
  /** Cookies get `Secure` and the `__Host-` prefix unless the issuer is http on localhost. */
  secureCookies: boolean;
};

/** Fills defaults and refuses settings that would be unsafe or meaningless, saying how to fix them. */
export function resolveConfig(config: AuthorizationServerConfig): ResolvedConfig {
  let issuer: URL;
  try {
    issuer = new URL(config.issuer);
  } catch {
    throw new Error(`issuer "${config.issuer}" is not a URL; use e.g. https://auth.example.com`);
  }
  if (issuer.search || issuer.hash || config.issuer.endsWith('/')) {
    throw new Error(`issuer "${config.issuer}" must have no query, fragment or trailing slash (RFC 8414 §2)`);
  }
  // RFC 8414 §3.1 puts the metadata of https://example.com/auth at
  // /.well-known/oauth-authorization-server/auth, and every endpoint would live under /auth;
  // Gatehouse serves both at the root, so an issuer with a path could never be discovered.
  if (issuer.pathname !== '/') {
    throw new Error(
      `issuer "${config.issuer}" has a path; Gatehouse must be served at the root of its own host name ` +
        `(e.g. https://auth.example.com, not https://example.com/auth): give it a host name of its own`,
    );
  }
  const insecure = issuer.protocol === 'http:';
  if (issuer.protocol !== 'https:' && !(insecure && isLoopbackHost(issuer.hostname))) {
    throw new Error(
      `issuer "${config.issuer}" must use https (http is allowed only on localhost for development)`,
    );
  }
  const accessTokenTtl = config.accessTokenTtl ?? 3600;
  if (!Number.isInteger(accessTokenTtl) || accessTokenTtl < 900 || accessTokenTtl > 3600) {
    throw new Error(`accessTokenTtl must be between 900 and 3600 seconds, got ${accessTokenTtl}`);
  }
  const scopes = config.scopes ?? defaultScopes;
  const consent = resolveConsent(config.consent, scopes);
  const resources = config.resources ?? [`${config.issuer}/mcp`];
  const identityProviders = resolveIdentityProviders(config.identityProviders);
  const passwordSignIn = config.passwordSignIn ?? true;
  if (!passwordSignIn && identityProviders.length === 0) {
    throw new Error('passwordSignIn is false but no identityProviders are configured: nobody could sign in');
  }
  // The master secret is not copied: nothing a handler returns or a logger prints can reach it.
  const { masterSecret: _, connections: _connections, ...rest } = config;
  return {
    ...rest,
    onError: config.onError,
    resources,
    defaultResource: config.defaultResource ?? (resources[0] as string),
    scopes,
    defaultScopes: config.defaultScopes ?? scopes.map((s) => s.name),
    consent,
    toolsOf: config.toolsOf ?? (async () => []),
    connectionsOf: config.connectionsOf ?? (() => []),
    accessTokenTtl,
    refreshTokenTtl: config.refreshTokenTtl ?? 30 * 86400,
    refreshTokenIdleTtl: config.refreshTokenIdleTtl ?? 14 * 86400,
    refreshRetryWindow: config.refreshRetryWindow ?? 30,
    codeTtl: config.codeTtl ?? 60,
    sessionTtl: config.sessionTtl ?? 12 * 3600,
    adminSessionTtl: config.adminSessionTtl ?? 3600,
    registration: {
      enabled: config.registration?.enabled ?? true,
      maxClients: config.registration?.maxClients ?? 10_000,
      perIpPerHour: config.registration?.perIpPerHour ?? 20,
      clientCredentials: config.registration?.clientCredentials ?? false,
    },
    identityProviders,
    passwordSignIn,
    loginAttemptsPer15Minutes: config.loginAttemptsPer15Minutes ?? 10,
    tokenFailuresPer15Minutes: config.tokenFailuresPer15Minutes ?? 100,
    clientIdMetadataDocuments: { enabled: true, ...config.clientIdMetadataDocuments },
    now: config.now ?? (() => Math.floor(Date.now() / 1000)),
    secureCookies: !insecure,
  };
}

/** The consent lists with their defaults; a name the catalogue lacks, or in both lists, is refused. */
function resolveConsent(
  consent: AuthorizationServerConfig['consent'],
  scopes: readonly ScopeDefinition[],
): ResolvedConfig['consent'] {
  const required = consent?.required ?? [];
  const uncheckedByDefault = consent?.uncheckedByDefault ?? [];
  const known = new Set([...scopes.map((s) => s.name), OFFLINE_ACCESS]);
  for (const [key, list] of [
    ['required', required],
    ['uncheckedByDefault', uncheckedByDefault],
  ] as const) {
    const unknown = list.find((name) => !known.has(name));
    if (unknown !== undefined) {
      throw new Error(
        `consent.${key}: "${unknown}" is not a scope of this server; add it to scopes or remove it`,
      );
    }
  }
  const both = required.find((name) => uncheckedByDefault.includes(name));
  if (both !== undefined) {
    throw new Error(`consent: "${both}" is both required and unchecked by default; keep it in one list`);
  }
  return { required: [...required], uncheckedByDefault: [...uncheckedByDefault] };
}

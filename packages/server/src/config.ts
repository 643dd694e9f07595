import { defaultScopes, type ScopeDefinition } from '@gatehouse/core';
import type { Store } from './store/types.ts';

/**
 * Every configuration key of the authorization server, with its default. Times are seconds.
 */
export interface AuthorizationServerConfig {
  /** The issuer identifier (RFC 8414 §2): an https URL, or http on localhost for development. No trailing slash. */
  issuer: string;
  store: Store;
  /** The master secret from which the store HMAC key and the at-rest encryption key derive. */
  masterSecret: string;
  /** Resources (RFC 8707) this AS issues tokens for. Default: `<issuer>/mcp`. */
  resources?: string[];
  /** The resource used when an authorization request names none. Default: the first resource. */
  defaultResource?: string;
  /** The scope catalogue with consent sentences. Default: the MCP scopes. */
  scopes?: readonly ScopeDefinition[];
  /** Scopes granted when a request names none. Default: every scope in the catalogue. */
  defaultScopes?: string[];
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
  /** Dynamic client registration: whether it is open, and how many DCR clients may exist. */
  registration?: { enabled?: boolean; maxClients?: number; perIpPerHour?: number };
  /** Failed token requests (bad client credentials, codes, refresh tokens) per address in 15 minutes. Default 100. */
  tokenFailuresPer15Minutes?: number;
  /** Failed logins allowed per username and per address in 15 minutes. Default 10. */
  loginAttemptsPer15Minutes?: number;
  /**
   * Client ID Metadata Documents. `dangerouslyAllowPrivateNetworks` and
   * `dangerouslyAllowInsecureHttp` exist for local development only.
   */
  clientIdMetadataDocuments?: {
    enabled?: boolean;
    dangerouslyAllowPrivateNetworks?: boolean;
    dangerouslyAllowInsecureHttp?: boolean;
    resolve?: (hostname: string) => Promise<{ address: string; family: 4 | 6 }[]>;
  };
  /** The clock, in seconds. Tests freeze it. */
  now?: () => number;
}

export type ResolvedConfig = Required<
  Omit<AuthorizationServerConfig, 'registration' | 'clientIdMetadataDocuments'>
> & {
  registration: Required<NonNullable<AuthorizationServerConfig['registration']>>;
  clientIdMetadataDocuments: NonNullable<AuthorizationServerConfig['clientIdMetadataDocuments']>;
  /** Cookies get `Secure` and the `__Host-` prefix unless the issuer is http on localhost. */
  secureCookies: boolean;
};

const isLoopbackHost = (host: string) => host === 'localhost' || host === '127.0.0.1' || host === '[::1]';

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
  const resources = config.resources ?? [`${config.issuer}/mcp`];
  return {
    ...config,
    resources,
    defaultResource: config.defaultResource ?? (resources[0] as string),
    scopes,
    defaultScopes: config.defaultScopes ?? scopes.map((s) => s.name),
    accessTokenTtl,
    refreshTokenTtl: config.refreshTokenTtl ?? 30 * 86400,
    refreshTokenIdleTtl: config.refreshTokenIdleTtl ?? 14 * 86400,
    refreshRetryWindow: config.refreshRetryWindow ?? 30,
    codeTtl: config.codeTtl ?? 60,
    sessionTtl: config.sessionTtl ?? 12 * 3600,
    registration: {
      enabled: config.registration?.enabled ?? true,
      maxClients: config.registration?.maxClients ?? 10_000,
      perIpPerHour: config.registration?.perIpPerHour ?? 20,
    },
    loginAttemptsPer15Minutes: config.loginAttemptsPer15Minutes ?? 10,
    tokenFailuresPer15Minutes: config.tokenFailuresPer15Minutes ?? 100,
    clientIdMetadataDocuments: { enabled: true, ...config.clientIdMetadataDocuments },
    now: config.now ?? (() => Math.floor(Date.now() / 1000)),
    secureCookies: !insecure,
  };
}

import { type AuthorizationServerMetadata, type ClientMetadata, matchRedirectUri } from '@gatehouse/core';
import { ClientError } from '../errors.ts';
import { type FetchLike, postForJson } from '../http.ts';
import type { StoredClient, TokenStore } from '../store/types.ts';
import type { ClientAuthentication } from './client-auth.ts';

/** Credentials the user configured for an authorization server (RFC 6749 §2). */
export interface PreRegisteredClient {
  /** The issuer these credentials belong to; omitted means "whichever the resource uses". */
  issuer?: string;
  client_id: string;
  client_secret?: string;
  token_endpoint_auth_method?: 'none' | 'client_secret_basic' | 'client_secret_post';
}

export interface RegistrationConfig {
  preRegistered?: readonly PreRegisteredClient[] | undefined;
  /** An https URL serving this client's metadata document, used as `client_id` (CIMD). */
  clientMetadataUrl?: string | undefined;
  /** What DCR sends: `client_name`, `client_uri`, … (`redirect_uris` is filled in). */
  clientMetadata?: ClientMetadata | undefined;
}

/** The auth method to use with a secret, among those the server lists (RFC 8414 default: basic). */
function secretMethod(as: AuthorizationServerMetadata): 'client_secret_basic' | 'client_secret_post' {
  const supported = as.token_endpoint_auth_methods_supported;
  if (!supported || supported.includes('client_secret_basic')) return 'client_secret_basic';
  return supported.includes('client_secret_post') ? 'client_secret_post' : 'client_secret_basic';
}

/** What to ask for at DCR: a public client when allowed (we are a native app, RFC 8252 §8.4). */
function requestedMethod(as: AuthorizationServerMetadata): string {
  const supported = as.token_endpoint_auth_methods_supported;
  if (!supported || supported.includes('none')) return 'none';
  return secretMethod(as);
}

/** Turns a registration into the token-endpoint authentication it implies. */
export function clientAuthentication(client: StoredClient): ClientAuthentication {
  const method = client.token_endpoint_auth_method;
  if ((method === 'client_secret_basic' || method === 'client_secret_post') && client.client_secret) {
    return { method, client_id: client.client_id, client_secret: client.client_secret };
  }
  return { method: 'none', client_id: client.client_id };
}

/** What resolving (and, if need be, registering) a client needs. */
export interface ResolveClientOptions {
  store: TokenStore;
  fetch: FetchLike;
  now: () => number;
  /** Deadline of the registration request (default 5 s, body included). */
  timeoutMs?: number | undefined;
  /** The caller's signal: aborting it abandons the registration request. */
  signal?: AbortSignal | undefined;
  /** The redirect URI of an interactive flow; undefined when there is none (no redirect URIs are registered). */
  redirectUri: string | undefined;
  config: RegistrationConfig;
}

/**
 * The client identity to use with an authorization server, in the MCP spec's order:
 * pre-registered credentials → an earlier registration kept in the store → a Client ID Metadata
 * Document (https `client_id` URL, when the server advertises support) → RFC 7591 dynamic
 * registration → a `registration_unavailable` error saying what to configure.
 *
 * Registrations are keyed by issuer: a resource that moves to another authorization server gets a
 * new registration, never the old server's `client_id`.
 *
 * @see https://modelcontextprotocol.io/specification/2025-11-25/basic/authorization#client-registration-approaches
 * @see https://www.rfc-editor.org/rfc/rfc7591#section-3.1
 */
export async function resolveClient(
  as: AuthorizationServerMetadata,
  options: ResolveClientOptions,
): Promise<StoredClient> {
  const { config, store } = options;
  const pre =
    config.preRegistered?.find((p) => p.issuer === as.issuer) ?? config.preRegistered?.find((p) => !p.issuer);
  if (pre) {
    return {
      issuer: as.issuer,
      client_id: pre.client_id,
      ...(pre.client_secret ? { client_secret: pre.client_secret } : {}),
      token_endpoint_auth_method:
        pre.token_endpoint_auth_method ?? (pre.client_secret ? secretMethod(as) : 'none'),
      source: 'pre-registered',
      registered_at: options.now(),
    };
  }

  const stored = await store.getClient(as.issuer);
  if (stored && stored.source !== 'pre-registered') {
    const expired =
      stored.client_secret_expires_at && stored.client_secret_expires_at * 1000 <= options.now();
    const redirectKnown =
      !options.redirectUri ||
      !stored.redirect_uris ||
      matchRedirectUri(stored.redirect_uris, options.redirectUri);
    if (!expired && redirectKnown) return stored;
  }

  if (config.clientMetadataUrl && as.client_id_metadata_document_supported === true) {
    const url = new URL(config.clientMetadataUrl);
    if (url.protocol === 'https:' && url.pathname !== '/') {
      return {
        issuer: as.issuer,
        client_id: url.href,
        token_endpoint_auth_method: 'none',
        source: 'cimd',
        registered_at: options.now(),
      };
    }
  }

  if (as.registration_endpoint) return register(as, options);

  throw new ClientError(
    'registration_unavailable',
    `${as.issuer} supports neither dynamic registration nor client ID metadata documents: ` +
      'configure a pre-registered client_id (and secret) for it',
  );
}

async function register(
  as: AuthorizationServerMetadata,
  options: ResolveClientOptions,
): Promise<StoredClient> {
  const interactive = options.redirectUri !== undefined;
  const metadata: ClientMetadata = {
    client_name: 'Gatehouse MCP client',
    ...options.config.clientMetadata,
    ...(interactive
      ? {
          redirect_uris: [options.redirectUri as string],
          grant_types: ['authorization_code', 'refresh_token'],
          response_types: ['code'],
          application_type: 'native',
        }
      : { grant_types: ['client_credentials'], application_type: 'native' }),
    token_endpoint_auth_method: requestedMethod(as),
  };
  const endpoint = as.registration_endpoint as string;
  const { res, json } = await postForJson(
    options,
    endpoint,
    {
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify(metadata),
    },
    'registration_failed',
    `registration endpoint of ${as.issuer} is unreachable`,
  );
  if (!res.ok || typeof json?.client_id !== 'string') {
    const error = typeof json?.error === 'string' ? json.error : `HTTP ${res.status}`;
    throw new ClientError('registration_failed', `registration with ${as.issuer} failed: ${error}`);
  }
  const client: StoredClient = {
    ...(json as Partial<StoredClient>),
    ...(metadata.redirect_uris ? { redirect_uris: metadata.redirect_uris } : {}),
    issuer: as.issuer,
    client_id: json.client_id,
    token_endpoint_auth_method:
      typeof json.token_endpoint_auth_method === 'string'
        ? json.token_endpoint_auth_method
        : typeof json.client_secret === 'string'
          ? secretMethod(as)
          : 'none',
    source: 'dcr',
    registered_at: options.now(),
  };
  await options.store.setClient(client);
  return client;
}

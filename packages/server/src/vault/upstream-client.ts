import { isLoopbackHost, withDeadline } from '@gatehouse/core';
import * as oidc from 'openid-client';
import { clientAuthentication } from '../federation/upstream.ts';

/**
 * An upstream API's authorization server, as the configuration file's `connections` entry names
 * it. The client secret is handed to openid-client's client authentication and kept nowhere else.
 */
export interface UpstreamConnectionConfig {
  authorizationEndpoint: string;
  tokenEndpoint: string;
  /** RFC 7009: where Remove revokes the user's upstream tokens, when the provider has one. */
  revocationEndpoint?: string | undefined;
  clientId: string;
  clientSecret: string;
  /** How the secret is presented at the token endpoint (RFC 6749 §2.3.1). Default `client_secret_post`. */
  clientAuthentication?: 'client_secret_basic' | 'client_secret_post' | undefined;
  scopes: readonly string[];
  /**
   * The upstream's issuer identifier (RFC 9207: checked against an `iss` in the authorization
   * response). Default: the authorization endpoint's origin.
   */
  issuer?: string | undefined;
  /** Deadline of each request to the upstream, body included. Default 10 s. */
  timeoutMs?: number | undefined;
}

const NULL_BODY_STATUS = new Set([101, 103, 204, 205, 304]);

/**
 * openid-client's fetch with a deadline that covers the body too (the library reads it after
 * `customFetch` returns, so it is read here, under the deadline), and no redirects followed.
 */
function deadlineFetch(timeoutMs: number): oidc.CustomFetch {
  return (url, options) =>
    withDeadline(url, { timeoutMs, signal: options.signal ?? undefined }, async (signal) => {
      const response = await fetch(url, { ...(options as RequestInit), signal, redirect: 'manual' });
      const body = NULL_BODY_STATUS.has(response.status) ? null : await response.arrayBuffer();
      return new Response(body, {
        status: errorDisguisedAsSuccess(response, body) ? 400 : response.status,
        statusText: response.statusText,
        headers: response.headers,
      });
    });
}

/**
 * GitHub (among others) answers a refused token request with 200 and an OAuth error body
 * (`{"error":"bad_refresh_token"}`), where RFC 6749 §5.2 says 400. Read as 400, the error reaches
 * the vault as the provider's error code, so a refused refresh breaks the connection and tells the
 * user to reconnect instead of failing every call as if the provider were down.
 */
function errorDisguisedAsSuccess(response: Response, body: ArrayBuffer | null): boolean {
  if (response.status !== 200 || body === null) return false;
  if (!/json/i.test(response.headers.get('content-type') ?? '')) return false;
  try {
    const json = JSON.parse(new TextDecoder().decode(body)) as Record<string, unknown>;
    return typeof json.error === 'string' && json.access_token === undefined;
  } catch {
    return false;
  }
}

/** The openid-client configuration for one connection: https endpoints, or http on loopback only. */
export function upstreamClient(id: string, config: UpstreamConnectionConfig): oidc.Configuration {
  const endpoints = [config.authorizationEndpoint, config.tokenEndpoint, config.revocationEndpoint];
  let insecure = false;
  for (const endpoint of endpoints) {
    if (endpoint === undefined) continue;
    const url = new URL(endpoint);
    if (url.protocol === 'http:' && isLoopbackHost(url.hostname)) insecure = true;
    else if (url.protocol !== 'https:') {
      throw new Error(`connections.${id}: endpoints must be https (http only on a loopback host)`);
    }
  }
  const client = new oidc.Configuration(
    {
      issuer: config.issuer ?? new URL(config.authorizationEndpoint).origin,
      authorization_endpoint: config.authorizationEndpoint,
      token_endpoint: config.tokenEndpoint,
      revocation_endpoint: config.revocationEndpoint,
    },
    config.clientId,
    undefined,
    clientAuthentication(config.clientAuthentication, config.clientSecret),
  );
  client[oidc.customFetch] = deadlineFetch(config.timeoutMs ?? 10_000);
  // Loopback http only (development and tests): the upstream is on this machine.
  if (insecure) oidc.allowInsecureRequests(client);
  return client;
}

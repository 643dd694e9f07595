import { DEFAULT_DEADLINE_MS } from '@gatehouse/core';
import * as oidc from 'openid-client';
import type { IdentityProvider, IdentityProviderConfig } from './config.ts';

/**
 * Every request to a provider (discovery, JWKS, token, userinfo) has a deadline that covers its
 * body too (the signal aborts the body stream as well), combined with openid-client's own signal.
 */
const withDeadline: oidc.CustomFetch = (url, options) => {
  const deadline = AbortSignal.timeout(DEFAULT_DEADLINE_MS);
  const signal = options.signal ? AbortSignal.any([options.signal, deadline]) : deadline;
  return fetch(url, { ...options, signal } as RequestInit);
};

/**
 * The openid-client `Configuration` of each provider, made on first use: discovery for OIDC (its
 * metadata and keys cached by openid-client), the configured endpoints for plain OAuth 2.0. A
 * failed discovery is not cached, so the next sign-in tries again. The client secrets live here
 * only, inside openid-client's client authentication.
 */
export class UpstreamClients {
  readonly #secrets = new Map<string, string | undefined>();
  readonly #configurations = new Map<string, Promise<oidc.Configuration>>();

  constructor(configs: readonly IdentityProviderConfig[] = []) {
    for (const c of configs) this.#secrets.set(c.id, c.clientSecret);
  }

  configuration(provider: IdentityProvider): Promise<oidc.Configuration> {
    let pending = this.#configurations.get(provider.id);
    if (!pending) {
      pending = this.#create(provider);
      this.#configurations.set(provider.id, pending);
      pending.catch(() => this.#configurations.delete(provider.id));
    }
    return pending;
  }

  async #create(provider: IdentityProvider): Promise<oidc.Configuration> {
    const secret = this.#secrets.get(provider.id);
    const auth = clientAuthentication(provider.clientAuthentication, secret);
    const execute = provider.dangerouslyAllowInsecureHttp ? [oidc.allowInsecureRequests] : [];
    let configuration: oidc.Configuration;
    if (provider.type === 'oidc') {
      configuration = await oidc.discovery(
        new URL(provider.issuer as string),
        provider.clientId,
        undefined,
        auth,
        {
          execute,
          [oidc.customFetch]: withDeadline,
        },
      );
    } else {
      // A plain OAuth 2.0 provider has no issuer identifier; its authorization endpoint's origin
      // stands in (openid-client needs one, and nothing is checked against it without ID tokens).
      configuration = new oidc.Configuration(
        {
          issuer: new URL(provider.authorizationEndpoint as string).origin,
          authorization_endpoint: provider.authorizationEndpoint,
          token_endpoint: provider.tokenEndpoint,
          userinfo_endpoint: provider.userinfoEndpoint,
        },
        provider.clientId,
        undefined,
        auth,
      );
      for (const run of execute) run(configuration);
    }
    configuration[oidc.customFetch] = withDeadline;
    return configuration;
  }
}

/** The claims of a signed-in upstream user: the ID token's and userinfo's, or the userinfo document's. */
export type UpstreamClaims = Map<string, unknown>;

/**
 * Redeems the callback's code (state, PKCE and, for OIDC, nonce and the ID token checked by
 * openid-client) and reads who signed in.
 */
export async function redeemCallback(
  provider: IdentityProvider,
  configuration: oidc.Configuration,
  callbackUrl: URL,
  checks: { state: string; codeVerifier: string; nonce: string },
): Promise<UpstreamClaims> {
  const oidcProvider = provider.type === 'oidc';
  const tokens = await oidc.authorizationCodeGrant(configuration, callbackUrl, {
    pkceCodeVerifier: checks.codeVerifier,
    expectedState: checks.state,
    ...(oidcProvider ? { expectedNonce: checks.nonce, idTokenExpected: true } : {}),
  });
  const claims = new Map<string, unknown>();
  if (oidcProvider) {
    const idToken = tokens.claims();
    if (!idToken) throw new Error('the provider returned no ID token');
    for (const [k, v] of Object.entries(idToken)) claims.set(k, v);
    // Many providers put profile and email claims in userinfo only; its `sub` must match.
    if (configuration.serverMetadata().userinfo_endpoint) {
      const info = await oidc.fetchUserInfo(configuration, tokens.access_token, idToken.sub);
      for (const [k, v] of Object.entries(info)) if (!claims.has(k)) claims.set(k, v);
    }
    return claims;
  }
  const response = await oidc.fetchProtectedResource(
    configuration,
    tokens.access_token,
    new URL(provider.userinfoEndpoint as string),
    'GET',
    undefined,
    new Headers({ accept: 'application/json' }),
  );
  if (!response.ok) throw new Error(`the userinfo endpoint answered ${response.status}`);
  const body: unknown = await response.json();
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new Error('the userinfo endpoint did not answer a JSON object');
  }
  for (const [k, v] of Object.entries(body)) claims.set(k, v);
  return claims;
}

/** openid-client's client authentication for a configured method (RFC 6749 §2.3.1); none without a secret. */
export function clientAuthentication(
  method: 'client_secret_basic' | 'client_secret_post' | undefined,
  secret: string | undefined,
): oidc.ClientAuth {
  if (secret === undefined) return oidc.None();
  return method === 'client_secret_basic' ? oidc.ClientSecretBasic(secret) : oidc.ClientSecretPost(secret);
}

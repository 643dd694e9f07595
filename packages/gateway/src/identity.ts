/**
 * No token passthrough: an HTTP upstream never sees the client's Gatehouse token. With
 * `identityAssertion`, each request the bridge makes on a user's behalf carries instead a
 * short-lived JWT signed by Gatehouse (verifiable with its JWKS) in the `Gatehouse-Identity`
 * header: who calls (`sub`), through which client, with which granted scopes, for that upstream
 * only (`aud`).
 *
 * The assertion travels from the bridge's call to the upstream transport's `fetch` through an
 * AsyncLocalStorage: the pool keeps one connection per upstream, and the header belongs to one
 * call, not to the connection (its `initialize` happens outside any call and carries none).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import type { AuthInfo } from '@gatehouse/resource';

/** The request header that carries the assertion to an HTTP upstream. */
export const IDENTITY_HEADER = 'gatehouse-identity';

/** How long an assertion is valid: enough for one upstream request to arrive, far below 5 minutes. */
export const IDENTITY_ASSERTION_TTL_SECONDS = 60;

const currentAssertion = new AsyncLocalStorage<string>();

/** Runs `call` with `assertion` attached to the upstream requests it makes (none when undefined). */
export function withIdentityAssertion<T>(assertion: string | undefined, call: () => Promise<T>): Promise<T> {
  return assertion === undefined ? call() : currentAssertion.run(assertion, call);
}

/**
 * The fetch HTTP upstream transports use: `base`, plus the current call's assertion, if any. A
 * client-supplied header of the same name cannot reach here (the transport builds its own).
 */
export function identityFetch(base: typeof fetch): typeof fetch {
  return (input, init) => {
    const assertion = currentAssertion.getStore();
    if (assertion === undefined) return base(input, init);
    const headers = new Headers(init?.headers);
    headers.set(IDENTITY_HEADER, assertion);
    return base(input, { ...init, headers });
  };
}

/**
 * The claims of an identity assertion for `auth`'s caller towards `audience` (the upstream URL):
 * `iss`, `sub`, `client_id`, `scope` (what the token grants), `aud`, `iat`, `exp`, `jti`.
 */
export function identityClaims(
  issuer: string,
  auth: AuthInfo,
  audience: string,
  nowSeconds: number,
): Record<string, unknown> {
  return {
    iss: issuer,
    sub: auth.subject,
    client_id: auth.clientId,
    scope: auth.scopes.join(' '),
    aud: audience,
    iat: nowSeconds,
    exp: nowSeconds + IDENTITY_ASSERTION_TTL_SECONDS,
    jti: randomUUID(),
  };
}

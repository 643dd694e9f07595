/**
 * Revocation as seen by resource servers that verify JWT access tokens locally.
 *
 * In the authorization server's own process a guard asks a `RevocationSource` directly; guards in
 * other processes follow the AS's revocation feed (`GET <issuer>/oauth/revocations`), whose
 * response is `RevocationFeedResponse`.
 */

import { scopeCovers } from './scope.ts';

/** The longest access-token lifetime Gatehouse allows (900–3600 s). */
export const MAX_ACCESS_TOKEN_TTL = 3600;

/**
 * How long past a token's `exp` a revocation entry is kept: guards accept a token until `exp`
 * plus their clock tolerance (30 s by default), so an entry that lapsed at `exp` would let a
 * revoked or narrowed token through for that long.
 */
export const REVOCATION_MARGIN_SECONDS = 60;

/** The expiry of an entry covering one token that expires at `exp`. */
export function revocationExpiryForToken(exp: number): number {
  return exp + REVOCATION_MARGIN_SECONDS;
}

/**
 * The expiry of an entry covering every token a grant may hold at `now`: issued under any lifetime
 * Gatehouse allows (a lifetime lowered since by configuration included), plus the margin.
 */
export function revocationExpiryForGrant(now: number): number {
  return now + MAX_ACCESS_TOKEN_TTL + REVOCATION_MARGIN_SECONDS;
}

/**
 * Answers whether a verified access token has been revoked, by its jti or its grant id, and
 * whether its grant has been narrowed since it was issued.
 */
export interface RevocationSource {
  isRevoked(claims: { jti: string; gid?: string }): boolean;
  /**
   * The most a token of grant `gid` may carry from now on, when the user narrowed the grant after
   * tokens were issued; undefined when the grant was never narrowed (or the entry has expired).
   * A guard intersects a token's scopes with it ({@link narrowScopes}) before any scope check.
   * Optional, so sources written before narrowing existed still compile.
   */
  narrowedScope?(gid: string): readonly string[] | undefined;
}

/**
 * One revoked grant (`gid`) or token (`jti`), or a narrowed grant (`gid` with `scope`: from now on
 * its tokens carry at most these space-delimited scopes). `exp` is the latest expiry (unix seconds)
 * of any access token the entry covers: once it has passed, the entry can be forgotten.
 *
 * A guard that predates narrowing reads a narrowing entry as the revocation of its grant: it
 * fails closed.
 */
export type RevocationEntry =
  | { gid: string; exp: number }
  | { jti: string; exp: number }
  | { gid: string; scope: string; exp: number };

/** Body of `GET <issuer>/oauth/revocations?after=<cursor>&wait=<seconds>`. */
export interface RevocationFeedResponse {
  /** Opaque; pass it back as `after` to receive only newer entries. */
  cursor: string;
  revoked: RevocationEntry[];
}

/**
 * The scopes of `held` that `cap` allows, along the hierarchy: a held scope that some capped scope
 * covers is kept as is; a held scope that covers a capped one shrinks to the capped one
 * (`tools:execute` capped at `tools:execute:filesystem` is `tools:execute:filesystem`). So caps
 * compose: narrowing twice is narrowing to what both allow, in either order.
 *
 * @example narrowScopes(['tools:list', 'tools:execute'], ['tools:list']) // ['tools:list']
 */
export function narrowScopes(held: readonly string[], cap: readonly string[]): string[] {
  const out = new Set<string>();
  for (const h of held) {
    if (cap.some((c) => scopeCovers(c, h))) out.add(h);
    else for (const c of cap) if (scopeCovers(h, c)) out.add(c);
  }
  return [...out];
}

/**
 * Revocation as seen by resource servers that verify JWT access tokens locally.
 *
 * In the authorization server's own process a guard asks a `RevocationSource` directly; guards in
 * other processes follow the AS's revocation feed (`GET <issuer>/oauth/revocations`), whose
 * response is `RevocationFeedResponse`.
 */

/** Answers whether a verified access token has been revoked, by its jti or its grant id. */
export interface RevocationSource {
  isRevoked(claims: { jti: string; gid?: string }): boolean;
}

/**
 * One revoked grant (`gid`) or token (`jti`). `exp` is the latest expiry (unix seconds) of any
 * access token the entry covers: once it has passed, the entry can be forgotten.
 */
export type RevocationEntry = { gid: string; exp: number } | { jti: string; exp: number };

/** Body of `GET <issuer>/oauth/revocations?after=<cursor>&wait=<seconds>`. */
export interface RevocationFeedResponse {
  /** Opaque; pass it back as `after` to receive only newer entries. */
  cursor: string;
  revoked: RevocationEntry[];
}

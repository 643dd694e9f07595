/**
 * What the guard learned from a valid access token: who the user and the client are, what they
 * may do, and until when. Structurally a superset of the official MCP SDK's `AuthInfo`, so it can
 * be handed to the SDK's transports (`authInfo`) unchanged.
 */
export interface AuthInfo {
  /** The access token, for the SDK's benefit. Never forward it to another service. */
  token: string;
  /** The OAuth client the token was issued to (RFC 9068 `client_id`). */
  clientId: string;
  /** The granted scopes (RFC 9068 `scope`). */
  scopes: string[];
  /** Expiry in seconds since the epoch. */
  expiresAt: number;
  /** The resource the token is for (RFC 8707), always equal to the guard's resource. */
  resource: URL;
  /** The end user (RFC 9068 `sub`), or the client itself for client credentials. */
  subject: string;
  /** The authorization server that issued the token. */
  issuer: string;
  /** The grant the token belongs to (Gatehouse `gid`), when the AS says. */
  grantId?: string | undefined;
  /** The token's own id (`jti`). */
  tokenId?: string | undefined;
  /** Every claim of the token (or the introspection response). */
  claims: Record<string, unknown>;
  /** The same facts for SDK handlers that only look at `authInfo.extra`. */
  extra: { subject: string; issuer: string; grantId?: string | undefined; tokenId?: string | undefined };
}

/** Reads RFC 9068 `scope` (space-delimited), or the `scp` array some servers use instead. */
export function scopesOf(claims: Record<string, unknown>): string[] {
  if (typeof claims.scope === 'string') return claims.scope.split(' ').filter(Boolean);
  if (Array.isArray(claims.scp)) return claims.scp.filter((s): s is string => typeof s === 'string');
  if (typeof claims.scp === 'string') return claims.scp.split(' ').filter(Boolean);
  return [];
}

/** Builds the AuthInfo from validated claims; returns undefined when identifying claims are missing. */
export function authInfoFromClaims(
  token: string,
  resource: string,
  claims: Record<string, unknown>,
): AuthInfo | undefined {
  const { iss, sub, exp } = claims;
  const clientId = typeof claims.client_id === 'string' ? claims.client_id : claims.azp;
  if (
    typeof iss !== 'string' ||
    typeof sub !== 'string' ||
    typeof exp !== 'number' ||
    typeof clientId !== 'string'
  ) {
    return undefined;
  }
  const grantId = typeof claims.gid === 'string' ? claims.gid : undefined;
  const tokenId = typeof claims.jti === 'string' ? claims.jti : undefined;
  return {
    token,
    clientId,
    scopes: scopesOf(claims),
    expiresAt: exp,
    resource: new URL(resource),
    subject: sub,
    issuer: iss,
    grantId,
    tokenId,
    claims,
    extra: { subject: sub, issuer: iss, grantId, tokenId },
  };
}

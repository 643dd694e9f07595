import { OAuthError } from '@gatehouse/core';
import { decodeJwt, errors, jwtVerify } from 'jose';
import type { RemoteKeySet } from './jwks.ts';
import { type AuthInfo, authInfoFromClaims } from './verified-token.ts';

export interface JwtVerificationOptions {
  /** This resource: the token's `aud` must name it (RFC 8707, RFC 9068 §4). */
  resource: string;
  /** Trusted issuers and their keys. */
  keySets: ReadonlyMap<string, RemoteKeySet>;
  /** Asymmetric algorithms only; `none` and HMAC are never accepted. */
  algorithms: string[];
  /** Expected `typ` header (RFC 9068 §2.1 `at+jwt`), or null to accept any (some ASes send `JWT`). */
  typ: string | null;
  clockToleranceSeconds: number;
  now: () => number;
}

/** True when the string has the shape of a JWS compact serialization. */
export function looksLikeJwt(token: string): boolean {
  return /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(token);
}

/**
 * Verifies a JWT access token locally: signature against the issuer's JWKS with an algorithm
 * allow-list, `iss` among the trusted servers, `aud` equal to this resource, `exp`/`nbf` with a
 * small skew, `typ`. Throws `invalid_token` with a safe description.
 *
 * @see https://www.rfc-editor.org/rfc/rfc9068#section-4
 */
export async function verifyJwtAccessToken(
  token: string,
  options: JwtVerificationOptions,
): Promise<AuthInfo> {
  let issuer: unknown;
  try {
    issuer = decodeJwt(token).iss;
  } catch {
    throw new OAuthError('invalid_token', 'The access token is malformed.');
  }
  const keySet = typeof issuer === 'string' ? options.keySets.get(issuer) : undefined;
  if (!keySet || typeof issuer !== 'string') {
    throw new OAuthError(
      'invalid_token',
      'The access token was not issued by a trusted authorization server.',
    );
  }
  let payload: Record<string, unknown>;
  try {
    ({ payload } = await jwtVerify(token, keySet.getKey, {
      issuer,
      audience: options.resource,
      algorithms: options.algorithms,
      ...(options.typ ? { typ: options.typ } : {}),
      clockTolerance: options.clockToleranceSeconds,
      currentDate: new Date(options.now()),
      requiredClaims: ['exp', 'sub'],
    }));
  } catch (err) {
    throw toTokenError(err);
  }
  const auth = authInfoFromClaims(token, options.resource, payload);
  if (!auth) throw new OAuthError('invalid_token', 'The access token lacks required claims.');
  return auth;
}

/** Maps jose's error codes to a description that helps the client without teaching an attacker. */
function toTokenError(err: unknown): OAuthError {
  if (err instanceof errors.JWTExpired)
    return new OAuthError('invalid_token', 'The access token has expired.');
  if (err instanceof errors.JWTClaimValidationFailed) {
    if (err.claim === 'aud')
      return new OAuthError('invalid_token', 'The access token is not meant for this resource.');
    if (err.claim === 'nbf') return new OAuthError('invalid_token', 'The access token is not yet valid.');
    return new OAuthError('invalid_token', 'The access token is invalid.');
  }
  if (err instanceof errors.JOSEError) return new OAuthError('invalid_token', 'The access token is invalid.');
  // Keys could not be fetched: the AS is unreachable. Not the client's fault; tell it to retry.
  return new OAuthError('temporarily_unavailable', 'The authorization server could not be reached.', {
    cause: err,
  });
}

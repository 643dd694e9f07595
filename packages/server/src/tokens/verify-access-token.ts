import type { AccessTokenClaims } from '@gatehouse/core';
import { createLocalJWKSet, type JSONWebKeySet, jwtVerify } from 'jose';
import type { Context } from '../context.ts';

/**
 * Verifies one of our own access tokens: signature against our published keys, issuer, type and
 * expiry. Returns undefined for anything else (expired, foreign, malformed): callers of
 * revocation and introspection must not learn why.
 */
export async function verifyOwnAccessToken(
  ctx: Context,
  token: string,
): Promise<AccessTokenClaims | undefined> {
  if (token.split('.').length !== 3) return undefined;
  try {
    const keys = createLocalJWKSet(ctx.keys.jwks(ctx.now()) as JSONWebKeySet);
    const { payload } = await jwtVerify(token, keys, {
      issuer: ctx.config.issuer,
      typ: 'at+jwt',
      algorithms: ['ES256'],
      currentDate: new Date(ctx.now() * 1000),
    });
    return payload as unknown as AccessTokenClaims;
  } catch {
    return undefined;
  }
}

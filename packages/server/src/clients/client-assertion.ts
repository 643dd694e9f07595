import { OAuthError } from '@gatehouse/core';
import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, errors, jwtVerify } from 'jose';
import type { Context } from '../context.ts';
import type { ClientRecord } from '../store/types.ts';
import { clientPublicKeys } from './client-jwks.ts';

export const JWT_BEARER_ASSERTION = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

/** Asymmetric algorithms only: a public client document cannot share an HMAC secret. */
const ALGORITHMS: ReadonlySet<string> = new Set(['ES256', 'ES384', 'EdDSA', 'RS256', 'PS256']);
const MAX_ASSERTION_LIFETIME = 300;
const CLOCK_TOLERANCE = 30;
/** Longer than an assertion can be valid (MAX_ASSERTION_LIFETIME + CLOCK_TOLERANCE). */
const JTI_WINDOW = 600;

const invalid = (why = 'The client assertion is invalid.') => new OAuthError('invalid_client', why);

/**
 * Everything that needs no key, checked before any key is fetched: a malformed, misaddressed,
 * expired or over-long assertion never makes the server contact the client's `jwks_uri`.
 * `aud` must be this server's issuer identifier, as a single string: the token endpoint URL and
 * other endpoint URLs are refused (draft-ietf-oauth-rfc7523bis, closing the audience confusion
 * RFC 7523 §3 item 3 allowed).
 */
function checkClaims(ctx: Context, client: ClientRecord, assertion: string, now: number): { kid?: string } {
  let header: ReturnType<typeof decodeProtectedHeader>;
  let claims: ReturnType<typeof decodeJwt>;
  try {
    header = decodeProtectedHeader(assertion);
    claims = decodeJwt(assertion);
  } catch {
    throw invalid();
  }
  if (typeof header.alg !== 'string' || !ALGORITHMS.has(header.alg)) throw invalid();
  if (claims.iss !== client.client_id || claims.sub !== client.client_id) throw invalid();
  if (typeof claims.aud !== 'string' || claims.aud !== ctx.config.issuer) {
    throw invalid("The client assertion's aud must be this server's issuer identifier.");
  }
  if (typeof claims.exp !== 'number' || typeof claims.jti !== 'string') throw invalid();
  if (claims.exp + CLOCK_TOLERANCE <= now) throw invalid('The client assertion has expired.');
  if (claims.exp - now > MAX_ASSERTION_LIFETIME) {
    throw invalid('The client assertion lives too long (5 minutes at most).');
  }
  return typeof header.kid === 'string' ? { kid: header.kid } : {};
}

/**
 * `private_key_jwt` (RFC 7523 §2.2, §3; OIDC Core §9): a JWT signed with the client's key, `iss`
 * and `sub` the client, `aud` this issuer, short-lived, `jti` single-use. Claims first, then the
 * (cached) keys and the signature, then the single-use check.
 */
export async function verifyClientAssertion(
  ctx: Context,
  client: ClientRecord,
  assertion: string,
): Promise<void> {
  if (client.token_endpoint_auth_method !== 'private_key_jwt') throw invalid('Client authentication failed.');
  const now = ctx.now();
  const { kid } = checkClaims(ctx, client, assertion, now);
  let payload: { jti?: unknown };
  try {
    ({ payload } = await jwtVerify(assertion, createLocalJWKSet(await clientPublicKeys(ctx, client, kid)), {
      algorithms: [...ALGORITHMS],
      issuer: client.client_id,
      subject: client.client_id,
      audience: ctx.config.issuer,
      currentDate: new Date(now * 1000),
      clockTolerance: CLOCK_TOLERANCE,
      requiredClaims: ['exp', 'jti'],
    }));
  } catch (err) {
    if (err instanceof OAuthError) throw err;
    throw invalid(err instanceof errors.JWTExpired ? 'The client assertion has expired.' : undefined);
  }
  // RFC 7523 §3 item 7: a jti is accepted once, for as long as the assertion could be valid. The
  // store counts in fixed windows, longer than any assertion lives (lifetime plus tolerance), so
  // a use is recorded in this window and a replay finds it here or in the window before.
  const key = `assertion:${client.client_id}:${String(payload.jti)}`;
  const [here, before] = await Promise.all([
    ctx.store.hitRateLimit(key, JTI_WINDOW, now),
    ctx.store.countRateLimit(key, JTI_WINDOW, now - JTI_WINDOW),
  ]);
  if (here > 1 || before > 0) throw invalid('The client assertion has already been used.');
}

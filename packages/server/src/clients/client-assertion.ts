import { OAuthError } from '@gatehouse/core';
import { createLocalJWKSet, errors, type JSONWebKeySet, jwtVerify } from 'jose';
import type { Context } from '../context.ts';
import type { ClientRecord } from '../store/types.ts';
import { fetchJsonDocument, systemResolver } from './cimd/index.ts';

export const JWT_BEARER_ASSERTION = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

/** Asymmetric algorithms only: a public client document cannot share an HMAC secret. */
const ALGORITHMS = ['ES256', 'ES384', 'EdDSA', 'RS256', 'PS256'];
const MAX_ASSERTION_LIFETIME = 300;

async function clientKeys(ctx: Context, client: ClientRecord): Promise<JSONWebKeySet> {
  if (client.jwks) return client.jwks as JSONWebKeySet;
  if (!client.jwks_uri) throw new OAuthError('invalid_client', 'The client has no registered keys.');
  const cimd = ctx.config.clientIdMetadataDocuments;
  // Fetched with the same SSRF protection as metadata documents.
  const { json } = await fetchJsonDocument(new URL(client.jwks_uri), {
    resolve: cimd.resolve ?? systemResolver,
    dangerouslyAllowPrivateNetworks: cimd.dangerouslyAllowPrivateNetworks === true,
    maxBytes: 64 * 1024,
    timeoutMs: 5000,
  });
  return json as JSONWebKeySet;
}

/**
 * `private_key_jwt` (RFC 7523 §2.2, §3; OIDC Core §9): a JWT signed with the client's key, `iss`
 * and `sub` the client, `aud` this issuer or its token endpoint, short-lived, `jti` single-use.
 */
export async function verifyClientAssertion(
  ctx: Context,
  client: ClientRecord,
  assertion: string,
): Promise<void> {
  if (client.token_endpoint_auth_method !== 'private_key_jwt') {
    throw new OAuthError('invalid_client', 'Client authentication failed.');
  }
  const now = ctx.now();
  let payload: { jti?: unknown; exp?: unknown };
  try {
    ({ payload } = await jwtVerify(assertion, createLocalJWKSet(await clientKeys(ctx, client)), {
      algorithms: ALGORITHMS,
      issuer: client.client_id,
      subject: client.client_id,
      audience: [ctx.config.issuer, `${ctx.config.issuer}/oauth/token`],
      currentDate: new Date(now * 1000),
      clockTolerance: 30,
      requiredClaims: ['exp', 'jti'],
    }));
  } catch (err) {
    if (err instanceof OAuthError) throw err;
    const reason =
      err instanceof errors.JWTExpired
        ? 'The client assertion has expired.'
        : 'The client assertion is invalid.';
    throw new OAuthError('invalid_client', reason);
  }
  if (typeof payload.exp !== 'number' || payload.exp - now > MAX_ASSERTION_LIFETIME) {
    throw new OAuthError('invalid_client', 'The client assertion lives too long (5 minutes at most).');
  }
  // RFC 7523 §3 item 7: a jti is accepted once, for as long as the assertion could be valid.
  const seen = await ctx.store.hitRateLimit(`assertion:${client.client_id}:${String(payload.jti)}`, 600, now);
  if (seen > 1) throw new OAuthError('invalid_client', 'The client assertion has already been used.');
}

import { timingSafeEqual } from 'node:crypto';
import { formatBasicChallenge, OAuthError } from '@gatehouse/core';
import { decodeJwt } from 'jose';
import type { Context } from '../context.ts';
import type { ClientRecord } from '../store/types.ts';
import { JWT_BEARER_ASSERTION, verifyClientAssertion } from './client-assertion.ts';

/** RFC 7523 §3: with private_key_jwt the client may omit client_id; it is the assertion's `sub`. */
function assertionSubject(assertion: string | undefined): string | undefined {
  if (!assertion) return undefined;
  try {
    const sub = decodeJwt(assertion).sub;
    return typeof sub === 'string' ? sub : undefined;
  } catch {
    return undefined;
  }
}

/** RFC 6749 §2.3.1: Basic credentials are form-urlencoded before base64. */
function parseBasic(header: string): { id: string; secret: string } | undefined {
  const match = /^Basic ([A-Za-z0-9+/=]+)$/i.exec(header.trim());
  if (!match) return undefined;
  const decoded = Buffer.from(match[1] as string, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  try {
    const formDecode = (s: string) => decodeURIComponent(s.replace(/\+/g, ' '));
    return { id: formDecode(decoded.slice(0, colon)), secret: formDecode(decoded.slice(colon + 1)) };
  } catch {
    return undefined;
  }
}

/**
 * Authenticates the client at the token, revocation and introspection endpoints
 * (RFC 6749 §2.3, §3.2.1): `client_secret_basic`, `client_secret_post`, or `none` for public
 * clients, which only identify themselves, and `private_key_jwt` (RFC 7523).
 * Failures are `invalid_client`, with a `Basic` challenge when the Authorization header was used.
 */
export async function authenticateClient(
  ctx: Context,
  request: Request,
  form: Map<string, string>,
): Promise<ClientRecord> {
  const header = request.headers.get('authorization');
  const basic = header ? parseBasic(header) : undefined;
  if (header && !basic)
    throw new OAuthError('invalid_request', 'The Authorization header is not valid Basic.');
  const postedSecret = form.get('client_secret');
  if (
    basic &&
    (postedSecret !== undefined || form.has('client_assertion') || form.has('client_assertion_type'))
  ) {
    throw new OAuthError('invalid_request', 'Use only one client authentication method per request.');
  }
  const fail = (description: string) =>
    new OAuthError(
      'invalid_client',
      description,
      basic ? { headers: { 'www-authenticate': formatBasicChallenge(ctx.config.issuer) } } : {},
    );

  const clientId = basic?.id ?? form.get('client_id') ?? assertionSubject(form.get('client_assertion'));
  if (!clientId) throw fail('Client authentication is required.');
  if (basic && form.has('client_id') && form.get('client_id') !== basic.id) {
    throw new OAuthError('invalid_request', 'client_id does not match the authenticated client.');
  }
  let client: ClientRecord;
  try {
    client = await ctx.clients.get(clientId);
  } catch (err) {
    if (err instanceof OAuthError && err.code === 'invalid_client')
      throw fail('Client authentication failed.');
    throw err;
  }

  const assertion = form.get('client_assertion');
  if (assertion !== undefined || form.has('client_assertion_type')) {
    if (postedSecret !== undefined)
      throw new OAuthError('invalid_request', 'Use only one client authentication method per request.');
    if (form.get('client_assertion_type') !== JWT_BEARER_ASSERTION || !assertion) {
      throw fail(`client_assertion_type must be ${JWT_BEARER_ASSERTION}.`);
    }
    await verifyClientAssertion(ctx, client, assertion);
    return client;
  }
  if (client.token_endpoint_auth_method === 'private_key_jwt')
    throw fail('This client authenticates with private_key_jwt.');
  const secret = basic?.secret ?? postedSecret;
  if (client.token_endpoint_auth_method === 'none') {
    // A public client proves nothing; it must not pretend to (RFC 6749 §2.3).
    if (secret !== undefined) throw fail('This client is public and has no secret.');
    return client;
  }
  // Confidential clients may send their secret by either method of RFC 6749 §2.3.1. The HMACs
  // are compared in constant time; the store never had the secret itself.
  const secretMethod = client.token_endpoint_auth_method.startsWith('client_secret_');
  if (!secretMethod || secret === undefined || !client.secret_hash)
    throw fail('Client authentication failed.');
  if (!sameHash(ctx.secrets.hash(secret), client.secret_hash)) throw fail('Client authentication failed.');
  return client;
}

/**
 * Compares two HMACs in constant time. Both are digests of one fixed length, so the length says
 * nothing about the secret and the digests are compared directly, not hashed again.
 */
function sameHash(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

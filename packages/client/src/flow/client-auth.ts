import { randomToken } from '@gatehouse/core';
import { importPKCS8, SignJWT } from 'jose';

/**
 * How the client authenticates at the token endpoint.
 *
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-2.3.1 (client_secret_basic / _post)
 * @see https://www.rfc-editor.org/rfc/rfc7523#section-2.2 (private_key_jwt)
 */
export type ClientAuthentication =
  | { method: 'none'; client_id: string }
  | { method: 'client_secret_basic' | 'client_secret_post'; client_id: string; client_secret: string }
  | {
      method: 'private_key_jwt';
      client_id: string;
      /** PKCS#8 PEM or an imported key. */
      private_key: string | CryptoKey;
      /** JWS algorithm; ES256 by default. */
      alg?: string;
      kid?: string;
    };

/** RFC 6749 §2.3.1: Basic credentials are form-urlencoded before base64. */
function basic(id: string, secret: string): string {
  const enc = (s: string) => encodeURIComponent(s).replace(/%20/g, '+');
  return `Basic ${Buffer.from(`${enc(id)}:${enc(secret)}`).toString('base64')}`;
}

/**
 * Adds client authentication to a token-endpoint request (headers and form body, in place).
 * `audience` is the authorization server's issuer, the audience RFC 7523bis recommends.
 */
export async function applyClientAuthentication(
  auth: ClientAuthentication,
  headers: Headers,
  body: URLSearchParams,
  audience: string,
  now: () => number,
): Promise<void> {
  switch (auth.method) {
    case 'none':
      body.set('client_id', auth.client_id);
      return;
    case 'client_secret_basic':
      headers.set('authorization', basic(auth.client_id, auth.client_secret));
      return;
    case 'client_secret_post':
      body.set('client_id', auth.client_id);
      body.set('client_secret', auth.client_secret);
      return;
    case 'private_key_jwt': {
      const alg = auth.alg ?? 'ES256';
      const key =
        typeof auth.private_key === 'string' ? await importPKCS8(auth.private_key, alg) : auth.private_key;
      const iat = Math.floor(now() / 1000);
      const assertion = await new SignJWT({})
        .setProtectedHeader(auth.kid ? { alg, kid: auth.kid, typ: 'JWT' } : { alg, typ: 'JWT' })
        .setIssuer(auth.client_id)
        .setSubject(auth.client_id)
        .setAudience(audience)
        .setIssuedAt(iat)
        .setExpirationTime(iat + 60)
        .setJti(randomToken(16))
        .sign(key);
      body.set('client_id', auth.client_id);
      body.set('client_assertion_type', 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer');
      body.set('client_assertion', assertion);
      return;
    }
  }
}

import { constantTimeEqual, OAuthError, randomToken } from '@gatehouse/core';
import type { Secrets } from '../secrets.ts';

/**
 * Cookie names and attributes. On https issuers cookies get the `__Host-` prefix and `Secure`;
 * on an http://localhost issuer (development) neither is possible, so both are dropped.
 */
export interface CookieJar {
  names: { session: string; csrf: string };
  read(request: Request, name: string): string | undefined;
  serialize(name: string, value: string, maxAge: number): string;
}

export function createCookieJar(secure: boolean): CookieJar {
  const prefix = secure ? '__Host-' : '';
  return {
    names: { session: `${prefix}gatehouse_session`, csrf: `${prefix}gatehouse_csrf` },
    read(request, name) {
      for (const part of (request.headers.get('cookie') ?? '').split(';')) {
        const eq = part.indexOf('=');
        if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
      }
      return undefined;
    },
    serialize(name, value, maxAge) {
      return `${name}=${value}; Path=/; HttpOnly; SameSite=Lax; Max-Age=${maxAge}${secure ? '; Secure' : ''}`;
    },
  };
}

/**
 * CSRF protection for every form: a random cookie, and in the form an HMAC of it bound to the
 * form's purpose. A cross-site page can neither read the cookie nor compute the MAC.
 */
export class Csrf {
  readonly #secrets: Secrets;
  readonly #jar: CookieJar;

  constructor(secrets: Secrets, jar: CookieJar) {
    this.#secrets = secrets;
    this.#jar = jar;
  }

  /** The token for a form, and the Set-Cookie header to send when the browser has no CSRF cookie yet. */
  issue(request: Request, purpose: string): { token: string; setCookie?: string } {
    const existing = this.#jar.read(request, this.#jar.names.csrf);
    const seed = existing && /^[A-Za-z0-9_-]{43}$/.test(existing) ? existing : randomToken(32);
    const token = this.#secrets.mac('csrf', `${seed}:${purpose}`);
    return seed === existing
      ? { token }
      : { token, setCookie: this.#jar.serialize(this.#jar.names.csrf, seed, 12 * 3600) };
  }

  /** Refuses a form post whose token does not match its cookie, or that comes from another origin. */
  verify(request: Request, form: Map<string, string>, purpose: string, issuerOrigin: string): void {
    const origin = request.headers.get('origin');
    if (origin !== null && origin !== issuerOrigin) {
      throw new OAuthError('invalid_request', 'This form was submitted from another site.');
    }
    const seed = this.#jar.read(request, this.#jar.names.csrf);
    const token = form.get('csrf');
    if (!seed || !token || !constantTimeEqual(token, this.#secrets.mac('csrf', `${seed}:${purpose}`))) {
      throw new OAuthError(
        'invalid_request',
        'The form expired or was not sent from this site. Go back and try again.',
      );
    }
  }
}

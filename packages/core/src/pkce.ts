import { createHash } from 'node:crypto';
import { base64url, constantTimeEqual, randomToken } from './encoding.ts';

/**
 * PKCE with S256 only (OAuth 2.1 §4.1.1; `plain` is refused by design).
 * @see https://www.rfc-editor.org/rfc/rfc7636#section-4
 */

/** RFC 7636 §4.1: 43–128 characters of [A-Z a-z 0-9 - . _ ~]. */
const VERIFIER = /^[A-Za-z0-9._~-]{43,128}$/;
/** An S256 challenge is the base64url SHA-256 digest: exactly 43 characters. */
const CHALLENGE = /^[A-Za-z0-9_-]{43}$/;

export function isValidCodeVerifier(verifier: string): boolean {
  return VERIFIER.test(verifier);
}

export function isValidCodeChallenge(challenge: string): boolean {
  return CHALLENGE.test(challenge);
}

/** `BASE64URL(SHA256(ASCII(code_verifier)))` (RFC 7636 §4.2). */
export function s256(verifier: string): string {
  return base64url(createHash('sha256').update(verifier, 'ascii').digest());
}

/** A fresh verifier (32 random bytes → 43 characters) and its S256 challenge. */
export function createPkcePair(): { code_verifier: string; code_challenge: string } {
  const code_verifier = randomToken(32);
  return { code_verifier, code_challenge: s256(code_verifier) };
}

/** Verifies `code_verifier` against a stored S256 challenge in constant time (RFC 7636 §4.6). */
export function verifyPkce(verifier: string, challenge: string): boolean {
  return isValidCodeVerifier(verifier) && constantTimeEqual(s256(verifier), challenge);
}

import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** base64url without padding (RFC 4648 §5), as used throughout OAuth and JOSE. */
export function base64url(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('base64url');
}

/** Decodes base64url; throws on characters outside the alphabet. */
export function base64urlDecode(text: string): Uint8Array {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) throw new TypeError('not base64url');
  return new Uint8Array(Buffer.from(text, 'base64url'));
}

/** A random base64url string carrying `bytes` bytes of entropy. */
export function randomToken(bytes = 32): string {
  return base64url(randomBytes(bytes));
}

/**
 * Compares two secrets in constant time. Both sides are hashed first so that neither the content
 * nor the length of the expected value leaks through timing.
 */
export function constantTimeEqual(a: string, b: string): boolean {
  return timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest());
}

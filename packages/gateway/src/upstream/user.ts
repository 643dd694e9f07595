import { createHash } from 'node:crypto';
import { USER_PLACEHOLDER } from '../config/schema.ts';

/** Longest user segment kept readable; longer ones become a hash (path components stop at 255 bytes). */
const MAX_READABLE = 96;

/**
 * The user id (a token's `sub`) as a safe path segment: letters, digits and `-` stay, every other
 * byte becomes `_xx` (its UTF-8 hex), so the result uses only `[A-Za-z0-9_-]`, is never `.` or
 * `..` and holds no separator. The mapping is one-to-one (`_` itself is escaped), so two users
 * never share a folder: `alice@x` → `alice_40x`, `alice_40x` → `alice_5f40x`. Very long ids
 * become `_h` + a SHA-256, which no escaped id can equal (`h` is not a hex digit).
 *
 * @example pathSafeUser('../etc') // '_2e_2e_2fetc'
 */
export function pathSafeUser(user: string): string {
  if (user === '') throw new TypeError('A per-user upstream needs a user id.');
  let out = '';
  for (const byte of Buffer.from(user, 'utf8')) {
    const c = String.fromCharCode(byte);
    out += /[A-Za-z0-9-]/.test(c) ? c : `_${byte.toString(16).padStart(2, '0')}`;
  }
  if (out.length <= MAX_READABLE) return out;
  return `_h${createHash('sha256').update(user, 'utf8').digest('hex')}`;
}

/** `text` with every `${user}` replaced by {@link pathSafeUser}'s form of `user`. */
export function withUser(text: string, user: string): string {
  return text.includes(USER_PLACEHOLDER) ? text.replaceAll(USER_PLACEHOLDER, pathSafeUser(user)) : text;
}

import type { Context } from '../context.ts';
import type { UserRecord } from '../store/types.ts';
import { DUMMY_PASSWORD_HASH, verifyPassword } from '../users/password.ts';

/** Failed sign-ins are counted in fixed windows of 15 minutes. */
const LOGIN_WINDOW = 15 * 60;

export type SignInResult =
  | { ok: true; user: UserRecord }
  | { ok: false; status: 401 | 403 | 429; error: string; username: string };

/**
 * Checks the username and password of a sign-in form, for every sign-in page (the authorization
 * interaction and the account pages): rate-limited per username and per address, audited, and
 * as slow for unknown users as for known ones. The caller has already verified the form's CSRF token.
 */
export async function checkCredentials(
  ctx: Context,
  form: Map<string, string>,
  remoteAddress = 'unknown',
): Promise<SignInResult> {
  const username = (form.get('username') ?? '').trim();
  const password = form.get('password') ?? '';
  // Switched off (`passwordSignIn: false`): no password is checked, not even a right one.
  if (!ctx.config.passwordSignIn) {
    return { ok: false, status: 403, error: 'Sign in with one of the choices above.', username };
  }
  const now = ctx.now();
  const user = await ctx.store.getUserByName(username);
  // Failures name the account by id, never by what was typed: a password typed into the username
  // field must not land in the audit log.
  const who = user ? { user_id: user.id } : { detail: { unknown_username: true } };
  const limit = ctx.config.loginAttemptsPer15Minutes;
  // Keyed by the name's HMAC, for the same reason: the store keeps nothing a user typed.
  const keys = [
    `login:user:${ctx.secrets.hash(username.toLowerCase())}`,
    `login:ip:${remoteAddress}`,
  ] as const;
  // Counted before the password is checked, atomically: of any number of parallel guesses exactly
  // `limit` reach scrypt; counting after it let them all through while the first ones ran.
  const [byUser, byAddress] = await Promise.all([
    ctx.store.hitRateLimit(keys[0], LOGIN_WINDOW, now),
    ctx.store.hitRateLimit(keys[1], LOGIN_WINDOW, now),
  ]);
  if (byUser > limit || byAddress > limit * 5) {
    await ctx.audit({ type: 'login.rate_limited', ...who });
    return {
      ok: false,
      status: 429,
      error: 'Too many sign-in attempts. Wait 15 minutes and try again.',
      username,
    };
  }

  // Verify against a dummy hash for unknown users so the response time doesn't reveal who exists.
  const ok = await verifyPassword(password, user?.password_hash ?? (await DUMMY_PASSWORD_HASH));
  if (!user || !ok || user.disabled) {
    await ctx.audit({ type: 'login.failed', ...who });
    return { ok: false, status: 401, error: 'The username or password is incorrect.', username };
  }
  // Only failures count: a successful sign-in takes back its own attempt, so a user who signs in
  // often is never locked out by success. Never a reset: one valid account must not clear the
  // failures counted against an address (or a username) by others.
  await Promise.all(keys.map((k) => ctx.store.refundRateLimit(k, LOGIN_WINDOW, now)));
  await ctx.audit({ type: 'login', user_id: user.id });
  return { ok: true, user };
}

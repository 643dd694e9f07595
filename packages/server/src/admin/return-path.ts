export const ADMIN_HOME = '/admin';

/**
 * Where sign-in sends an admin back to: only a path under /admin (an allow-list, so `return=`
 * can never become an open redirect to another site).
 *
 * @example adminReturnPath('/admin/users?q=ann') // '/admin/users?q=ann'
 * @example adminReturnPath('https://evil.example/admin') // undefined
 */
export function adminReturnPath(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  return /^\/admin(?:[/?][^\\\s]*)?$/.test(value) ? value : undefined;
}

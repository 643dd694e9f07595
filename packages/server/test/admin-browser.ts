import type { Harness } from './harness.ts';

export const csrfOf = (page: string) => /name="csrf" value="([^"]+)"/.exec(page)?.[1] ?? '';

/**
 * A browser stand-in over real HTTP: keeps cookies, signs in through /login?return=…, and posts
 * forms with the CSRF token of the page they came from.
 */
export function adminBrowser(h: Harness) {
  const cookies = new Map<string, string>();
  async function request(path: string, init: { form?: Record<string, string>; origin?: string } = {}) {
    const headers = new Headers({ accept: 'text/html' });
    if (cookies.size) headers.set('cookie', [...cookies].map(([k, v]) => `${k}=${v}`).join('; '));
    if (init.origin) headers.set('origin', init.origin);
    if (init.form) headers.set('content-type', 'application/x-www-form-urlencoded');
    const response = await fetch(`${h.issuer}${path}`, {
      method: init.form ? 'POST' : 'GET',
      headers,
      body: init.form && new URLSearchParams(init.form),
      redirect: 'manual',
    });
    for (const cookie of response.headers.getSetCookie()) {
      const [name, value] = (cookie.split(';')[0] as string).split('=') as [string, string];
      if (value === '') cookies.delete(name);
      else cookies.set(name, value);
    }
    return {
      status: response.status,
      location: response.headers.get('location'),
      text: await response.text(),
    };
  }
  return {
    request,
    /** Signs in as an admin page's redirect does; returns the sign-in's answer (303 back). */
    async signIn(user: { username: string; password: string }, back = '/admin/users') {
      const login = `/login?return=${encodeURIComponent(back)}`;
      const form = await request(login);
      return request(login, {
        form: { csrf: csrfOf(form.text), username: user.username, password: user.password },
      });
    },
    /** Posts `action` with the CSRF token of the page at `pagePath`. */
    async submit(pagePath: string, action: string, fields: Record<string, string>, origin = h.issuer) {
      const page = await request(pagePath);
      return request(action, { form: { csrf: csrfOf(page.text), ...fields }, origin });
    },
  };
}

import { pageHeaders } from './pages.ts';

/** An HTML page with the security headers of every page, and any extra headers (e.g. Set-Cookie). */
export function page(
  body: string,
  status = 200,
  extra: Record<string, string | undefined> = {},
  formTargets: string[] = [],
): Response {
  const headers = new Headers(pageHeaders(formTargets));
  for (const [k, v] of Object.entries(extra)) if (v) headers.append(k, v);
  return new Response(body, { status, headers });
}

/** 303 See Other: after a form post the browser follows with a GET, so reloading never re-posts. */
export function redirect(location: string, setCookie?: string): Response {
  const headers = new Headers({ location, 'cache-control': 'no-store' });
  if (setCookie) headers.append('set-cookie', setCookie);
  return new Response(null, { status: 303, headers });
}

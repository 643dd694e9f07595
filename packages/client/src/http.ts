import { isLoopbackHttpUrl } from '@gatehouse/core';
import { ClientError } from './errors.ts';

/** The shape of `globalThis.fetch`, so callers can inject their own (tests, proxies, the MCP SDK). */
export type FetchLike = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

/**
 * OAuth 2.1 §1.5: endpoints must use TLS. Loopback (the same hosts as loopback redirects,
 * `@gatehouse/core` redirect-uri.ts) is allowed so development servers and tests work without certificates.
 */
export function requireSecureUrl(value: string, what: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ClientError('insecure_url', `${what} is not a valid URL`);
  }
  if (url.protocol === 'https:' || isLoopbackHttpUrl(url)) return url;
  throw new ClientError('insecure_url', `${what} must use https: ${url.origin}`);
}

/** GETs a JSON document; `undefined` when the server says 4xx (the caller tries the next location). */
export async function getJsonOrUndefined(fetchFn: FetchLike, url: string): Promise<unknown> {
  let res: Response;
  try {
    res = await fetchFn(url, { headers: { accept: 'application/json' }, redirect: 'error' });
  } catch {
    return undefined;
  }
  if (!res.ok) {
    await res.body?.cancel();
    return undefined;
  }
  try {
    return await res.json();
  } catch {
    return undefined;
  }
}

/** A form-encoded POST body (RFC 6749 §4.1.3 and friends). */
export function formBody(params: Record<string, string | undefined>): URLSearchParams {
  const body = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined) body.set(k, v);
  return body;
}

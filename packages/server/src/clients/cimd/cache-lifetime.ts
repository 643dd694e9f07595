/**
 * How long a fetched metadata document may be reused: its HTTP freshness lifetime, kept within the
 * authorization server's own bounds.
 *
 * @see https://datatracker.ietf.org/doc/html/draft-ietf-oauth-client-id-metadata-document#name-metadata-caching
 * @see https://www.rfc-editor.org/rfc/rfc9111#section-4.2.1 (freshness lifetime)
 */

export interface CacheBounds {
  /** Lower bound, so that `max-age=0` cannot make every authorization request refetch. */
  minSeconds: number;
  /** Upper bound, so that changes to a client's document (new redirect URIs, keys) are seen. */
  maxSeconds: number;
  /** Used when the response says nothing about freshness. */
  defaultSeconds: number;
}

/** Response headers as node:http gives them. */
export type ResponseHeaders = Record<string, string | string[] | undefined>;

/**
 * The number of seconds the document may be served from cache, or 0 when it must not be stored at
 * all (`no-store`, or `no-cache`, since we do not revalidate). `max-age` (less `Age`) comes first,
 * then `Expires` (against `Date`, else `nowMs`), then `defaultSeconds`; the result is clamped to
 * `[minSeconds, maxSeconds]`.
 *
 * @example cacheLifetimeSeconds({ 'cache-control': 'public, max-age=600' }, Date.now(), bounds) // 600
 * @see https://www.rfc-editor.org/rfc/rfc9111#section-5.2.2
 */
export function cacheLifetimeSeconds(headers: ResponseHeaders, nowMs: number, bounds: CacheBounds): number {
  const directives = parseCacheControl(header(headers, 'cache-control'));
  if (directives.has('no-store') || directives.has('no-cache')) return 0;
  return Math.min(
    bounds.maxSeconds,
    Math.max(bounds.minSeconds, freshness(headers, directives, nowMs, bounds)),
  );
}

function freshness(
  headers: ResponseHeaders,
  directives: Map<string, string>,
  nowMs: number,
  bounds: CacheBounds,
) {
  const maxAge = directives.get('max-age');
  if (maxAge !== undefined) {
    // RFC 9111 §1.2.2: delta-seconds are digits; anything else makes the response stale.
    if (!/^\d+$/.test(maxAge)) return 0;
    const age = Number(header(headers, 'age'));
    return Number(maxAge) - (Number.isFinite(age) && age > 0 ? age : 0);
  }
  const expires = header(headers, 'expires');
  if (expires !== undefined) {
    const expiresAt = Date.parse(expires);
    if (Number.isNaN(expiresAt)) return 0;
    const date = Date.parse(header(headers, 'date') ?? '');
    return Math.floor((expiresAt - (Number.isNaN(date) ? nowMs : date)) / 1000);
  }
  return bounds.defaultSeconds;
}

function header(headers: ResponseHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}

/** `public, max-age="60", No-Store` → { public → '', max-age → '60', no-store → '' }. */
function parseCacheControl(value: string | undefined): Map<string, string> {
  const directives = new Map<string, string>();
  for (const part of (value ?? '').split(',')) {
    const [name = '', ...rest] = part.split('=');
    const key = name.trim().toLowerCase();
    if (key === '' || directives.has(key)) continue;
    directives.set(
      key,
      rest
        .join('=')
        .trim()
        .replace(/^"(.*)"$/, '$1'),
    );
  }
  return directives;
}

/**
 * `WWW-Authenticate` challenges.
 *
 * @see https://www.rfc-editor.org/rfc/rfc6750#section-3 (Bearer)
 * @see https://www.rfc-editor.org/rfc/rfc9728#section-5.1 (resource_metadata)
 */

export interface BearerChallenge {
  realm?: string;
  error?: 'invalid_request' | 'invalid_token' | 'insufficient_scope';
  error_description?: string;
  scope?: string;
  resource_metadata?: string;
}

/** Quotes an auth-param value as an RFC 9110 quoted-string. */
function quote(value: string): string {
  return `"${value.replace(/["\\]/g, '\\$&')}"`;
}

/** Formats `Bearer k="v", …`, omitting absent parameters. */
export function formatBearerChallenge(challenge: BearerChallenge): string {
  const order = ['realm', 'error', 'error_description', 'scope', 'resource_metadata'] as const;
  const params = order
    .filter((k) => challenge[k] !== undefined)
    .map((k) => `${k}=${quote(challenge[k] as string)}`);
  return params.length ? `Bearer ${params.join(', ')}` : 'Bearer';
}

/** The `Basic` challenge sent with 401 `invalid_client` when the client used HTTP Basic (RFC 6749 §5.2). */
export function formatBasicChallenge(realm: string): string {
  return `Basic realm=${quote(realm)}`;
}

/**
 * Parses the first `Bearer` challenge of a `WWW-Authenticate` header value.
 * Returns undefined when there is no Bearer challenge.
 */
export function parseBearerChallenge(header: string): Record<string, string> | undefined {
  const start = header.search(/(^|[\s,])Bearer(\s|$)/i);
  if (start < 0) return undefined;
  const rest = header.slice(start).replace(/^[\s,]*Bearer/i, '');
  // A Map, made an object only at the end (Object.fromEntries defines own properties), so a
  // parameter the server names `__proto__` is just a name.
  const params = new Map<string, string>();
  const re = /\s*,?\s*([A-Za-z0-9_!#$%&'*+.^`|~-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))/y;
  let m: RegExpExecArray | null = re.exec(rest);
  while (m) {
    const key = (m[1] as string).toLowerCase();
    // A new scheme name followed by a token68 or params ends this challenge.
    params.set(key, m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : (m[3] as string));
    const next = rest.slice(re.lastIndex);
    if (/^\s*,?\s*[A-Za-z0-9_-]+\s+[A-Za-z0-9_-]+=/.test(next)) break;
    m = re.exec(rest);
  }
  return Object.fromEntries(params);
}

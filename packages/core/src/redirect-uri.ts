/**
 * The one set of loopback and redirect-URI rules, shared by the authorization server (dynamic
 * registration, Client ID Metadata Documents, pre-registered clients, /authorize) and the client
 * library, so that what one side registers the other side accepts.
 */
import { OAuthError } from './errors.ts';

/**
 * The loopback hosts: the IP literals of RFC 8252 §7.3, and `localhost`, which MCP clients widely
 * register (the MCP authorization spec allows it; RFC 8252 §8.3 prefers the literals).
 * `URL.hostname` keeps the brackets of an IPv6 literal, hence `[::1]`.
 */
const LOOPBACK_HOSTS: ReadonlySet<string> = new Set(['127.0.0.1', '[::1]', 'localhost']);

/**
 * Schemes that run or embed content in the user agent instead of reaching an application. None of
 * them contains a dot, so the private-use rule refuses them too; naming them gives a clearer error.
 */
const DANGEROUS_SCHEMES: ReadonlySet<string> = new Set([
  'javascript',
  'data',
  'file',
  'vbscript',
  'blob',
  'about',
]);

/**
 * True for a loopback host as `URL.hostname` spells it: `127.0.0.1`, `[::1]` or `localhost`.
 *
 * @example isLoopbackHost(new URL('http://[::1]:8080/').hostname) // true
 * @see https://www.rfc-editor.org/rfc/rfc8252#section-7.3
 */
export function isLoopbackHost(hostname: string): boolean {
  return LOOPBACK_HOSTS.has(hostname);
}

/**
 * True for an `http:` URL on a loopback host: the only place plain http is acceptable, for
 * redirects (RFC 8252 §7.3) and for development servers (OAuth 2.1 §1.5).
 *
 * @example isLoopbackHttpUrl(new URL('http://127.0.0.1:3000/cb')) // true
 */
export function isLoopbackHttpUrl(url: URL): boolean {
  return url.protocol === 'http:' && isLoopbackHost(url.hostname);
}

/**
 * Why a redirect URI may not be registered, as a sentence about "it", or `undefined` when it may:
 * absolute, no fragment (RFC 6749 §3.1.2), no userinfo; https; http only on a loopback host
 * (RFC 8252 §7.3); or a private-use scheme in reverse-domain form (RFC 8252 §7.1, e.g.
 * `com.example.app:/callback`); never `javascript:`, `data:`, `file:`, `vbscript:`, `blob:`, `about:`.
 *
 * @example redirectUriProblem('http://app.example/cb') // 'it must use https (http is allowed only on 127.0.0.1, [::1] or localhost)'
 * @see https://www.rfc-editor.org/rfc/rfc9700#section-2.1
 */
export function redirectUriProblem(uri: string): string | undefined {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return 'it is not an absolute URI';
  }
  // `new URL` drops an empty fragment ("…/cb#"), so look at the text as well.
  if (url.hash !== '' || uri.includes('#')) return 'it must not contain a fragment';
  const scheme = url.protocol.slice(0, -1);
  if (DANGEROUS_SCHEMES.has(scheme)) return `the '${scheme}:' scheme is not allowed`;
  if (url.username !== '' || url.password !== '') return 'it must not contain a username or password';
  if (scheme === 'https') return undefined;
  if (scheme === 'http') {
    return isLoopbackHost(url.hostname)
      ? undefined
      : 'it must use https (http is allowed only on 127.0.0.1, [::1] or localhost)';
  }
  // RFC 8252 §7.1: a private-use scheme is a reverse domain name, which always contains a dot.
  if (scheme.includes('.')) return undefined;
  return `the scheme '${scheme}:' is neither https nor a reverse-domain private-use scheme (RFC 8252 §7.1)`;
}

/**
 * Throws `invalid_redirect_uri` (RFC 7591 §3.2.2) when {@link redirectUriProblem} finds a problem.
 *
 * @example validateRedirectUri('com.example.app:/callback') // passes
 */
export function validateRedirectUri(uri: string): void {
  const problem = redirectUriProblem(uri);
  if (problem)
    throw new OAuthError('invalid_redirect_uri', `The redirect URI '${uri}' is refused: ${problem}.`);
}

/**
 * Exact redirect URI matching (OAuth 2.1 §2.3.1, RFC 9700 §4.1.3), except that the port of an http
 * loopback redirect is ignored (RFC 8252 §7.3): native apps listen on an ephemeral port.
 *
 * @example matchRedirectUri(['http://127.0.0.1/cb'], 'http://127.0.0.1:53211/cb') // true
 */
export function matchRedirectUri(registered: readonly string[], requested: string): boolean {
  if (registered.includes(requested)) return true;
  const req = URL.parse(requested);
  if (!req || !isLoopbackHttpUrl(req)) return false;
  return registered.some((candidate) => {
    const reg = URL.parse(candidate);
    if (!reg || !isLoopbackHttpUrl(reg)) return false;
    reg.port = req.port;
    return reg.href === req.href;
  });
}

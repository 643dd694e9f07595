/**
 * The one OAuth error type and the one place that maps error codes to HTTP status.
 *
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-5.2 (token endpoint errors)
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-4.1.2.1 (authorization response errors)
 * @see https://www.rfc-editor.org/rfc/rfc6750#section-3.1 (bearer token errors)
 * @see https://www.rfc-editor.org/rfc/rfc7591#section-3.2.2 (registration errors)
 */

/** Registered OAuth error codes and the HTTP status each is served with. */
export const oauthErrorStatus = {
  invalid_request: 400,
  invalid_client: 401,
  invalid_grant: 400,
  unauthorized_client: 400,
  unsupported_grant_type: 400,
  invalid_scope: 400,
  access_denied: 403,
  unsupported_response_type: 400,
  server_error: 500,
  temporarily_unavailable: 503,
  invalid_token: 401,
  insufficient_scope: 403,
  invalid_redirect_uri: 400,
  invalid_client_metadata: 400,
  unsupported_token_type: 400,
  invalid_target: 400,
} as const;

export type OAuthErrorCode = keyof typeof oauthErrorStatus;

export interface OAuthErrorOptions {
  /** Overrides the table's status only where a spec says so (e.g. 429 for rate limits). */
  status?: number;
  /** Extra response headers, e.g. `WWW-Authenticate` for `invalid_client` via Basic auth. */
  headers?: Record<string, string>;
  cause?: unknown;
}

/** Longest `error_description` sent: descriptions may quote input, which must not be echoed at length. */
const MAX_DESCRIPTION = 300;

/**
 * RFC 6749 §5.2: `error_description` holds only %x20-21 / %x23-5B / %x5D-7E. Descriptions that
 * quote what a client sent get `"` as `'`, `\` as `/`, anything else outside that set as `?`,
 * and are cut to a bounded length.
 */
export function errorDescription(text: string): string {
  const safe = text
    .replace(/"/g, "'")
    .replace(/\\/g, '/')
    .replace(/[^\x20-\x7e]/g, '?');
  return safe.length > MAX_DESCRIPTION ? `${safe.slice(0, MAX_DESCRIPTION - 3)}...` : safe;
}

/**
 * An error that is safe to show to the client: `description` must never hold secrets.
 *
 * @example throw new OAuthError('invalid_grant', 'The authorization code has expired.')
 */
export class OAuthError extends Error {
  readonly code: OAuthErrorCode;
  readonly description: string | undefined;
  readonly status: number;
  readonly headers: Record<string, string>;

  constructor(code: OAuthErrorCode, description?: string, options: OAuthErrorOptions = {}) {
    super(description ?? code, { cause: options.cause });
    this.name = 'OAuthError';
    this.code = code;
    this.description = description === undefined ? undefined : errorDescription(description);
    this.status = options.status ?? oauthErrorStatus[code];
    this.headers = options.headers ?? {};
  }

  /** RFC 6749 §5.2 body. */
  toJSON(): { error: OAuthErrorCode; error_description?: string } {
    return this.description === undefined
      ? { error: this.code }
      : { error: this.code, error_description: this.description };
  }
}

/**
 * RFC 6585 §4: 429 with `Retry-After`. OAuth registers no code for rate limits (`slow_down`
 * belongs to the device flow's polling, RFC 8628 §3.5), so the body says
 * `temporarily_unavailable`, the code for a server that cannot serve the request for now.
 */
export function tooManyRequests(description: string, retryAfterSeconds: number): OAuthError {
  return new OAuthError('temporarily_unavailable', description, {
    status: 429,
    headers: { 'retry-after': String(Math.max(1, Math.ceil(retryAfterSeconds))) },
  });
}

/** Anything that is not an OAuthError becomes a bare `server_error`: no message, no stack. */
export function toOAuthError(err: unknown): OAuthError {
  return err instanceof OAuthError ? err : new OAuthError('server_error');
}

/** Headers every OAuth JSON response carries (RFC 6749 §5.1). */
export const noStoreHeaders = {
  'content-type': 'application/json; charset=utf-8',
  'cache-control': 'no-store',
  pragma: 'no-cache',
} as const;

/**
 * The text of bodies built here, by response. A Response's body is a web stream; a server adapter
 * that finds the text here writes it in one piece instead of reading the stream back (a measurable
 * share of a token request's CPU). The Response itself is complete either way.
 */
const bodyTexts = new WeakMap<Response, string>();

function textResponse(text: string, status: number, headers: Record<string, string>): Response {
  const response = new Response(text, { status, headers });
  bodyTexts.set(response, text);
  return response;
}

/**
 * The body of a response built by `jsonResponse` or `errorResponse`, as text, while the body has
 * not been read; otherwise `undefined` (then read `response.body` as usual).
 */
export function bodyTextOf(response: Response): string | undefined {
  return response.bodyUsed ? undefined : bodyTexts.get(response);
}

/** Serializes an error as the RFC 6749 §5.2 JSON response. */
export function errorResponse(err: unknown): Response {
  const e = toOAuthError(err);
  return textResponse(JSON.stringify(e), e.status, { ...noStoreHeaders, ...e.headers });
}

/** A JSON response with `Cache-Control: no-store`. */
export function jsonResponse(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return textResponse(JSON.stringify(body), status, { ...noStoreHeaders, ...headers });
}

/**
 * Serializes an error as an authorization-endpoint redirect (RFC 6749 §4.1.2.1) with `iss`
 * (RFC 9207 §2) and `state`.
 */
export function errorRedirect(
  redirectUri: string,
  err: unknown,
  params: { state?: string | undefined; iss: string },
): Response {
  const e = toOAuthError(err);
  const url = new URL(redirectUri);
  url.searchParams.set('error', e.code);
  if (e.description) url.searchParams.set('error_description', e.description);
  if (params.state !== undefined) url.searchParams.set('state', params.state);
  url.searchParams.set('iss', params.iss);
  return new Response(null, { status: 302, headers: { location: url.href, 'cache-control': 'no-store' } });
}

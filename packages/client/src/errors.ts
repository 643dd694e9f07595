/**
 * The one error type of the client, with a stable `code` that callers (and tests) branch on.
 * Messages are safe to print: they never contain tokens, secrets or codes.
 */

export type ClientErrorCode =
  /** No protected-resource or authorization-server metadata could be found. */
  | 'discovery_failed'
  /** RFC 9728 §3.3: the metadata's `resource` does not cover the URL we asked about. */
  | 'resource_mismatch'
  /** RFC 8414 §3.3: the metadata's `issuer` differs from the issuer we asked for. */
  | 'issuer_mismatch'
  /** The authorization server does not list S256 in `code_challenge_methods_supported`. */
  | 'pkce_unsupported'
  /** A URL that must be https is not (loopback is allowed for development). */
  | 'insecure_url'
  /** No pre-registered client, no usable CIMD URL and no registration endpoint. */
  | 'registration_unavailable'
  | 'registration_failed'
  /** The authorization response's `state` does not match the request. */
  | 'state_mismatch'
  /** RFC 9207: `iss` missing where required, or different from the issuer. */
  | 'iss_mismatch'
  /** The authorization server answered the authorization request with an error. */
  | 'authorization_failed'
  | 'token_request_failed'
  /** The grant is gone (refresh token revoked or expired): the user must log in again. */
  | 'reauthorization_required'
  /** 403 insufficient_scope persisted after the allowed number of step-up attempts. */
  | 'step_up_limit'
  /** The token store could not be read or locked. */
  | 'store_unavailable';

export class ClientError extends Error {
  readonly code: ClientErrorCode;
  /** The OAuth error code the server sent, when there was one (`invalid_grant`, …). */
  readonly oauthError: string | undefined;

  constructor(
    code: ClientErrorCode,
    message: string,
    options: { oauthError?: string; cause?: unknown } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = 'ClientError';
    this.code = code;
    this.oauthError = options.oauthError;
  }
}

/** Type guard that also narrows on the code. */
export function isClientError(err: unknown, code?: ClientErrorCode): err is ClientError {
  return err instanceof ClientError && (code === undefined || err.code === code);
}

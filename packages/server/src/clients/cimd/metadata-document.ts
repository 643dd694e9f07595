/**
 * The Client ID Metadata Document: the client's own registration, published at its `client_id` URL.
 * Validated with zod; properties we do not use are dropped, as the draft lets documents carry extras.
 *
 * @see https://datatracker.ietf.org/doc/html/draft-ietf-oauth-client-id-metadata-document#name-client-metadata-document
 * @see https://www.rfc-editor.org/rfc/rfc7591#section-2 (the metadata names)
 */
import { OAuthError, parseScope } from '@gatehouse/core';
import { z } from 'zod';

/** A validated metadata document, defaults applied. */
export interface ClientMetadataDocument {
  /** Equal, character for character, to the URL the document was fetched from. */
  client_id: string;
  client_name: string;
  redirect_uris: string[];
  client_uri?: string;
  logo_uri?: string;
  /** A public document cannot carry a secret: `none` (the default) or `private_key_jwt`. */
  token_endpoint_auth_method: 'none' | 'private_key_jwt';
  /** Public keys for `private_key_jwt` (exactly one of `jwks`, `jwks_uri`). */
  jwks?: { keys: Record<string, unknown>[] };
  jwks_uri?: string;
  /** Defaults to `["authorization_code"]` (RFC 7591 §2). */
  grant_types: string[];
  /** Defaults to `["code"]` (RFC 7591 §2). */
  response_types: string[];
  scope?: string;
  application_type?: 'web' | 'native';
}

/** Client authentication methods built on a shared secret, which a public document cannot establish. */
const sharedSecretMethods = new Set(['client_secret_basic', 'client_secret_post', 'client_secret_jwt']);

/** JWK members that only private or symmetric keys have. */
const privateKeyMembers = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];

const MAX_URL = 2000;

/** C0 and C1 controls, and bidirectional overrides that could disguise a name on the consent screen. */
const UNSAFE_TEXT = /[\p{Cc}\u202a-\u202e\u2066-\u2069]/u;

const httpsUrl = z
  .string()
  .max(MAX_URL)
  .refine((value) => isHttpsUrl(value), { message: 'must be an https URL without userinfo or fragment' });

const redirectUri = z
  .string()
  .max(MAX_URL)
  .superRefine((value, ctx) => {
    const problem = redirectUriProblem(value);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });

const jwk = z
  .looseObject({ kty: z.string().min(1) })
  .refine((key) => key.kty !== 'oct', { message: 'must not hold a symmetric key' })
  .refine((key) => !privateKeyMembers.some((member) => member in key), {
    message: 'must hold public keys only',
  });

const text = (max: number) =>
  z
    .string()
    .trim()
    .min(1)
    .max(max)
    .refine((value) => !UNSAFE_TEXT.test(value), { message: 'must not contain control characters' });

const schema = z
  .object({
    client_id: z.string(),
    client_name: text(200),
    redirect_uris: z.array(redirectUri).min(1).max(20),
    client_uri: httpsUrl.optional(),
    logo_uri: httpsUrl.optional(),
    token_endpoint_auth_method: z
      .enum(['none', 'private_key_jwt'], { message: 'must be "none" or "private_key_jwt"' })
      .default('none'),
    jwks: z.object({ keys: z.array(jwk).min(1).max(20) }).optional(),
    jwks_uri: httpsUrl.optional(),
    grant_types: z.array(z.string().min(1).max(200)).min(1).max(10).default(['authorization_code']),
    response_types: z.array(z.string().min(1).max(200)).min(1).max(10).default(['code']),
    scope: z
      .string()
      .max(2000)
      .refine((value) => isValidScope(value), { message: 'must be space-delimited scope tokens' })
      .optional(),
    application_type: z.enum(['web', 'native']).optional(),
  })
  .superRefine((doc, ctx) => {
    if (
      doc.token_endpoint_auth_method === 'private_key_jwt' &&
      (doc.jwks === undefined) === (doc.jwks_uri === undefined)
    ) {
      ctx.addIssue({
        code: 'custom',
        path: ['token_endpoint_auth_method'],
        message: 'private_key_jwt needs exactly one of jwks or jwks_uri',
      });
    }
    if (doc.grant_types.includes('client_credentials') && doc.token_endpoint_auth_method === 'none') {
      ctx.addIssue({
        code: 'custom',
        path: ['grant_types'],
        message: 'client_credentials needs client authentication (private_key_jwt)',
      });
    }
  });

/**
 * Validates a fetched document against the `client_id` URL it was fetched from.
 *
 * @throws OAuthError `invalid_client` with the first problem found, e.g.
 *   `The client metadata document is invalid: redirect_uris[0]: must not contain a fragment.`
 * @see https://datatracker.ietf.org/doc/html/draft-ietf-oauth-client-id-metadata-document#name-client-metadata-document
 */
export function parseClientMetadataDocument(json: unknown, clientId: string): ClientMetadataDocument {
  const invalid = (why: string) => new OAuthError('invalid_client', `The client metadata document ${why}.`);
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw invalid('is not a JSON object');
  const raw = json as Record<string, unknown>;
  // Simple string comparison (RFC 3986 §6.2.1), checked first: a document that does not name
  // itself is not this client's document, whatever else it says.
  if (raw.client_id !== clientId) throw invalid('does not name its own URL as client_id');
  const method = raw.token_endpoint_auth_method;
  if (typeof method === 'string' && sharedSecretMethods.has(method)) {
    throw invalid(`cannot use ${method}: a public document cannot establish a shared secret`);
  }
  if ('client_secret' in raw || 'client_secret_expires_at' in raw) {
    throw invalid('must not contain client_secret or client_secret_expires_at');
  }
  const result = schema.safeParse(raw);
  if (!result.success) {
    const issue = result.error.issues[0];
    const where = issue ? formatPath(issue.path) : '';
    throw invalid(`is invalid: ${where ? `${where}: ` : ''}${issue?.message ?? 'malformed'}`);
  }
  return result.data;
}

/** True for the loopback hosts RFC 8252 §7.3 lets native apps use with plain http. */
export function isLoopbackHost(hostname: string): boolean {
  return hostname === '127.0.0.1' || hostname === '[::1]' || hostname === 'localhost';
}

/**
 * Why a redirect URI is unacceptable, or undefined when it is fine: https; http on a loopback host
 * (RFC 8252 §7.3); or a private-use scheme in reverse-domain form (RFC 8252 §7.1, e.g.
 * `com.example.app:/callback`), which by construction excludes `javascript:`, `data:` and `file:`.
 * Never a fragment (RFC 6749 §3.1.2) nor userinfo.
 */
function redirectUriProblem(value: string): string | undefined {
  if (value.includes('#')) return 'must not contain a fragment';
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'must be an absolute URL';
  }
  if (url.username !== '' || url.password !== '') return 'must not contain a username or password';
  if (url.protocol === 'https:') return undefined;
  if (url.protocol === 'http:') {
    return isLoopbackHost(url.hostname) ? undefined : 'must use https, or http only on a loopback host';
  }
  const scheme = url.protocol.slice(0, -1);
  if (scheme.includes('.')) return undefined;
  return 'must use https, http on a loopback host, or a reverse-domain private-use scheme';
}

function isHttpsUrl(value: string): boolean {
  if (value.includes('#')) return false;
  try {
    const url = new URL(value);
    return url.protocol === 'https:' && url.username === '' && url.password === '';
  } catch {
    return false;
  }
}

function isValidScope(value: string): boolean {
  try {
    parseScope(value);
    return true;
  } catch {
    return false;
  }
}

/** `['redirect_uris', 0]` → `redirect_uris[0]`. */
function formatPath(path: readonly PropertyKey[]): string {
  return path
    .map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i === 0 ? '' : '.'}${String(p)}`))
    .join('');
}

/**
 * The Client ID Metadata Document: the client's own registration, published at its `client_id` URL.
 * Validated by the same rules as dynamic registration (../metadata.ts); properties we do not use
 * are dropped, as the draft lets documents carry extras.
 *
 * @see https://datatracker.ietf.org/doc/html/draft-ietf-oauth-client-id-metadata-document#name-client-metadata-document
 * @see https://www.rfc-editor.org/rfc/rfc7591#section-2 (the metadata names)
 */
import { OAuthError } from '@gatehouse/core';
import { CIMD_PROFILE, type ClientMetadata, clientMetadataValidator } from '../metadata.ts';

/** A validated metadata document, defaults applied: the shared client metadata, named by its URL. */
export interface ClientMetadataDocument extends ClientMetadata {
  /** Equal, character for character, to the URL the document was fetched from. */
  client_id: string;
  client_name: string;
}

/** Client authentication methods built on a shared secret, which a public document cannot establish. */
const sharedSecretMethods = new Set(['client_secret_basic', 'client_secret_post', 'client_secret_jwt']);

const validate = clientMetadataValidator(CIMD_PROFILE);

/**
 * Validates a fetched document against the `client_id` URL it was fetched from.
 *
 * @throws OAuthError `invalid_client` with the first problem found, e.g.
 *   `The client metadata document is invalid: redirect_uris[0] is refused: it must not contain a fragment.`
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
  if (Object.hasOwn(raw, 'client_secret') || Object.hasOwn(raw, 'client_secret_expires_at')) {
    throw invalid('must not contain client_secret or client_secret_expires_at');
  }
  const result = validate(raw);
  if (!result.ok) throw invalid(`is invalid: ${result.problem.sentence.slice(0, -1)}`);
  // CIMD_PROFILE requires client_name, so it is present here.
  return { ...result.metadata, client_id: clientId, client_name: result.metadata.client_name ?? '' };
}

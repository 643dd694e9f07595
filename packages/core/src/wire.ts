/**
 * Wire types, with the specs' own snake_case names.
 */

/** @see https://www.rfc-editor.org/rfc/rfc8414#section-2 */
export interface AuthorizationServerMetadata {
  issuer: string;
  authorization_endpoint?: string;
  token_endpoint?: string;
  jwks_uri?: string;
  registration_endpoint?: string;
  scopes_supported?: string[];
  response_types_supported: string[];
  response_modes_supported?: string[];
  grant_types_supported?: string[];
  token_endpoint_auth_methods_supported?: string[];
  token_endpoint_auth_signing_alg_values_supported?: string[];
  service_documentation?: string;
  revocation_endpoint?: string;
  revocation_endpoint_auth_methods_supported?: string[];
  introspection_endpoint?: string;
  introspection_endpoint_auth_methods_supported?: string[];
  code_challenge_methods_supported?: string[];
  /** RFC 9207 §3 */
  authorization_response_iss_parameter_supported?: boolean;
  /** draft-ietf-oauth-client-id-metadata-document */
  client_id_metadata_document_supported?: boolean;
  [extension: string]: unknown;
}

/** @see https://www.rfc-editor.org/rfc/rfc9728#section-2 */
export interface ProtectedResourceMetadata {
  resource: string;
  authorization_servers?: string[];
  jwks_uri?: string;
  scopes_supported?: string[];
  bearer_methods_supported?: string[];
  resource_signing_alg_values_supported?: string[];
  resource_name?: string;
  resource_documentation?: string;
  [extension: string]: unknown;
}

/** @see https://www.rfc-editor.org/rfc/rfc6749#section-5.1 */
export interface TokenResponse {
  access_token: string;
  token_type: string;
  expires_in?: number;
  refresh_token?: string;
  scope?: string;
  [extension: string]: unknown;
}

/** @see https://www.rfc-editor.org/rfc/rfc6749#section-5.2 */
export interface TokenErrorResponse {
  error: string;
  error_description?: string;
  error_uri?: string;
}

/** @see https://www.rfc-editor.org/rfc/rfc7591#section-2 */
export interface ClientMetadata {
  redirect_uris?: string[];
  token_endpoint_auth_method?: string;
  grant_types?: string[];
  response_types?: string[];
  client_name?: string;
  client_uri?: string;
  logo_uri?: string;
  scope?: string;
  contacts?: string[];
  tos_uri?: string;
  policy_uri?: string;
  jwks_uri?: string;
  jwks?: { keys: Record<string, unknown>[] };
  software_id?: string;
  software_version?: string;
  /** OpenID Connect Dynamic Client Registration §2; required by the 2026-07-28 MCP revision. */
  application_type?: 'web' | 'native';
}

/** @see https://www.rfc-editor.org/rfc/rfc7591#section-3.2.1 */
export interface ClientInformation extends ClientMetadata {
  client_id: string;
  client_secret?: string;
  client_id_issued_at?: number;
  client_secret_expires_at?: number;
}

/** @see https://www.rfc-editor.org/rfc/rfc7662#section-2.2 */
export interface IntrospectionResponse {
  active: boolean;
  scope?: string;
  client_id?: string;
  username?: string;
  token_type?: string;
  exp?: number;
  iat?: number;
  nbf?: number;
  sub?: string;
  aud?: string | string[];
  iss?: string;
  jti?: string;
  [extension: string]: unknown;
}

/** Claims of a Gatehouse access token (RFC 9068 §2.2). */
export interface AccessTokenClaims {
  iss: string;
  sub: string;
  aud: string;
  exp: number;
  iat: number;
  jti: string;
  client_id: string;
  scope: string;
  /** The grant this token belongs to; revoking the grant revokes the token. */
  gid: string;
}

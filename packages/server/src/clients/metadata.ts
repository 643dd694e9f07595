/**
 * The one validator of client metadata (RFC 7591 §2), for dynamic registration and for Client ID
 * Metadata Documents alike: what one accepts the other accepts, and both accept only what this
 * server supports. No client record can carry a grant type, response type or authentication
 * method outside the allow-lists below.
 *
 * Unsupported values are refused, not dropped: RFC 7591 §2 lets the server "reject or replace"
 * requested values, and refusing tells the client's developer at once, where a silently trimmed
 * registration would fail later with a less helpful error.
 *
 * @see https://www.rfc-editor.org/rfc/rfc7591#section-2
 * @see https://datatracker.ietf.org/doc/html/draft-ietf-oauth-client-id-metadata-document#name-client-metadata-document
 */
import { parseScope, redirectUriProblem } from '@gatehouse/core';
import { z } from 'zod';
import type { ClientRecord } from '../store/types.ts';
import { isPublicAddress } from './cimd/address-policy.ts';

/** The grant types this server implements (RFC 7591 §2 `grant_types`). */
export const SUPPORTED_GRANT_TYPES = ['authorization_code', 'refresh_token', 'client_credentials'] as const;

export type TokenEndpointAuthMethod = ClientRecord['token_endpoint_auth_method'];

/** Where metadata comes from decides which authentication methods it may choose. */
export interface ClientMetadataProfile {
  /** The methods allowed; the first is the default (RFC 7591 §2 names `client_secret_basic`). */
  authMethods: readonly [TokenEndpointAuthMethod, ...TokenEndpointAuthMethod[]];
  /** A metadata document is the client's public identity, so it must name itself. */
  nameRequired: boolean;
}

/** Dynamic registration: the server issues a secret, so shared-secret methods are fine. */
export const DCR_PROFILE: ClientMetadataProfile = {
  authMethods: ['client_secret_basic', 'client_secret_post', 'none'],
  nameRequired: false,
};

/** A public document cannot establish a shared secret (CIMD draft §4.1). */
export const CIMD_PROFILE: ClientMetadataProfile = {
  authMethods: ['none', 'private_key_jwt'],
  nameRequired: true,
};

/** Validated metadata, defaults applied, unknown members dropped (RFC 7591 §3.1.1). */
export interface ClientMetadata {
  client_name?: string;
  /** Empty only when no redirect-based grant is registered (RFC 7591 §2). */
  redirect_uris: string[];
  client_uri?: string;
  logo_uri?: string;
  token_endpoint_auth_method: TokenEndpointAuthMethod;
  /** Public keys for `private_key_jwt` (exactly one of `jwks`, `jwks_uri`). */
  jwks?: { keys: Record<string, unknown>[] };
  jwks_uri?: string;
  grant_types: (typeof SUPPORTED_GRANT_TYPES)[number][];
  response_types: 'code'[];
  scope?: string;
  application_type?: 'web' | 'native';
  software_id?: string;
  software_version?: string;
}

/** A refusal: the field, and a sentence that starts with it. */
export interface ClientMetadataProblem {
  field: string;
  sentence: string;
}

export type ClientMetadataResult =
  | { ok: true; metadata: ClientMetadata }
  | { ok: false; problem: ClientMetadataProblem };

const MAX_URL = 2000;

/** JWK members that only private or symmetric keys have. */
const privateKeyMembers = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];

/** C0 and C1 controls, and the bidirectional marks and overrides that can disguise a name. */
const UNSAFE_TEXT = /[\p{Cc}\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/u;
/** Something a person can see: not only spaces, zero-width and other format characters. */
const VISIBLE = /[^\p{Cf}\p{Z}\s]/u;

const text = (max: number) =>
  z
    .string()
    .trim()
    .min(1)
    .max(max)
    .refine((value) => !UNSAFE_TEXT.test(value), {
      message: 'must not contain control or bidirectional-override characters',
    })
    .refine((value) => VISIBLE.test(value), { message: 'must contain visible characters' });

/**
 * An https page or image shown to the user: no userinfo, no fragment, and not an address inside
 * the server's or the user's network (the consent page must not point a browser there).
 */
const publicHttpsUrl = z
  .string()
  .max(MAX_URL)
  .refine((value) => isPublicHttpsUrl(value), {
    message: 'must be an https URL on a public host, without userinfo or fragment',
  });

const redirectUri = z
  .string()
  .max(MAX_URL)
  .superRefine((value, ctx) => {
    const problem = redirectUriProblem(value);
    if (problem) ctx.addIssue({ code: 'custom', message: `is refused: ${problem}` });
  });

const jwk = z
  .looseObject({ kty: z.string().min(1) })
  .refine((key) => key.kty !== 'oct', { message: 'must not hold a symmetric key' })
  .refine((key) => !privateKeyMembers.some((member) => Object.hasOwn(key, member)), {
    message: 'must hold public keys only',
  });

function schemaFor(profile: ClientMetadataProfile) {
  return z
    .object({
      client_name: text(200).optional(),
      redirect_uris: z.array(redirectUri).max(20).default([]),
      client_uri: publicHttpsUrl.optional(),
      logo_uri: publicHttpsUrl.optional(),
      token_endpoint_auth_method: z.enum(profile.authMethods).default(profile.authMethods[0]),
      jwks: z.object({ keys: z.array(jwk).min(1).max(20) }).optional(),
      // Fetched only under the metadata documents' address policy, which judges the host.
      jwks_uri: z
        .string()
        .max(MAX_URL)
        .refine((value) => isHttpsUrl(value), {
          message: 'must be an https URL without userinfo or fragment',
        })
        .optional(),
      grant_types: z.array(z.enum(SUPPORTED_GRANT_TYPES)).min(1).max(10).default(['authorization_code']),
      response_types: z.array(z.literal('code')).min(1).max(10).default(['code']),
      scope: z
        .string()
        .max(2000)
        .refine((value) => isValidScope(value), { message: 'must be space-delimited scope tokens' })
        .optional(),
      application_type: z.enum(['web', 'native']).optional(),
      software_id: z.string().max(200).optional(),
      software_version: z.string().max(100).optional(),
    })
    .superRefine((meta, ctx) => {
      const issue = (path: string, message: string) =>
        ctx.addIssue({ code: 'custom', path: [path], message });
      if (profile.nameRequired && meta.client_name === undefined) issue('client_name', 'is required');
      // RFC 7591 §2: redirect_uris is for redirect-based flows; client_credentials alone needs none.
      if (meta.grant_types.includes('authorization_code') && meta.redirect_uris.length === 0) {
        issue('redirect_uris', 'is required for the authorization_code grant');
      }
      if (meta.grant_types.includes('client_credentials') && meta.token_endpoint_auth_method === 'none') {
        issue('grant_types', 'may list client_credentials only for a client that authenticates');
      }
      const keys = (meta.jwks === undefined ? 0 : 1) + (meta.jwks_uri === undefined ? 0 : 1);
      if (meta.token_endpoint_auth_method === 'private_key_jwt' && keys !== 1) {
        issue('token_endpoint_auth_method', 'private_key_jwt needs exactly one of jwks or jwks_uri');
      }
    });
}

/**
 * A validator for one profile: the JSON a client sent or published → its metadata, or the first
 * problem as a sentence naming the field.
 *
 * @example
 * const validate = clientMetadataValidator(DCR_PROFILE);
 * validate({ grant_types: ['constructor'] });
 * // { ok: false, problem: { field: 'grant_types[0]', sentence: 'grant_types[0] must be one of "authorization_code", …' } }
 */
export function clientMetadataValidator(
  profile: ClientMetadataProfile,
): (json: unknown) => ClientMetadataResult {
  const schema = schemaFor(profile);
  return (json) => {
    if (typeof json !== 'object' || json === null || Array.isArray(json)) {
      return { ok: false, problem: { field: 'body', sentence: 'The metadata must be a JSON object.' } };
    }
    const result = schema.safeParse(json);
    if (result.success) return { ok: true, metadata: result.data };
    const issue = result.error.issues[0] as z.core.$ZodIssue;
    const field = formatPath(issue.path) || 'body';
    return { ok: false, problem: { field, sentence: `${field} ${describe(issue)}.` } };
  };
}

/** Zod's issue as the rest of a sentence that starts with the field name. */
function describe(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'invalid_type':
      return `must be ${issue.expected === 'array' || issue.expected === 'object' ? 'an' : 'a'} ${issue.expected}`;
    case 'invalid_value':
      return `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'too_small':
      return issue.origin === 'array' ? `must hold at least ${issue.minimum} value(s)` : 'must not be empty';
    case 'too_big':
      return issue.origin === 'array'
        ? `must hold at most ${issue.maximum} values`
        : `must be at most ${issue.maximum} characters long`;
    case 'custom':
      return issue.message;
    default:
      return 'is invalid';
  }
}

function isHttpsUrl(value: string): boolean {
  const url = URL.parse(value);
  return !value.includes('#') && url?.protocol === 'https:' && url.username === '' && url.password === '';
}

function isPublicHttpsUrl(value: string): boolean {
  if (!isHttpsUrl(value)) return false;
  const url = new URL(value);
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  // An IP literal must be public; names are judged by what they say (no lookup at registration).
  if (/^[\d.]+$/.test(host) || host.includes(':')) return isPublicAddress(host);
  return host !== 'localhost' && !host.endsWith('.localhost') && host.includes('.');
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

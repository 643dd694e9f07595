import fc from 'fast-check';
import type { World } from '../world.ts';

/**
 * Parameter names and values for forms, JSON bodies and query strings: prototype names (finding 1
 * of the Trust issue was `grant_type=constructor`), the names and values the specs define, the
 * fixture's real identifiers used in the wrong place, unicode, long strings.
 */

/** Names that resolve to something on every plain object: a lookup by user input must not find them. */
export const PROTOTYPE_NAMES = [
  'constructor',
  '__proto__',
  'toString',
  'hasOwnProperty',
  'valueOf',
  'prototype',
  'isPrototypeOf',
  '__defineGetter__',
  'toLocaleString',
] as const;

/** Parameter names of RFC 6749, 7009, 7591, 7636, 7662, 8707 and the pages' forms. */
export const OAUTH_PARAMETER_NAMES = [
  'grant_type',
  'code',
  'code_verifier',
  'code_challenge',
  'code_challenge_method',
  'redirect_uri',
  'client_id',
  'client_secret',
  'client_assertion',
  'client_assertion_type',
  'refresh_token',
  'scope',
  'resource',
  'response_type',
  'state',
  'token',
  'token_type_hint',
  'redirect_uris',
  'grant_types',
  'token_endpoint_auth_method',
  'client_name',
  'client_uri',
  'logo_uri',
  'jwks_uri',
  'application_type',
  'csrf',
  'username',
  'password',
  'decision',
  'grant_id',
  'after',
] as const;

/** Values the specs define, most of them wrong wherever they land (a hint as a grant type, …). */
const SPEC_VALUES = [
  'authorization_code',
  'refresh_token',
  'client_credentials',
  'password',
  'implicit',
  'urn:ietf:params:oauth:grant-type:jwt-bearer',
  'urn:ietf:params:oauth:grant-type:device_code',
  'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
  'access_token',
  'code',
  'token',
  'id_token',
  'none',
  'client_secret_basic',
  'client_secret_post',
  'private_key_jwt',
  'S256',
  'plain',
  'openid',
  'offline_access',
  'tools:list',
  'tools:execute',
  'tools:execute:filesystem',
  'tools:list tools:list',
  'approve',
  'deny',
  'native',
  'web',
];

/** Client-ID-Metadata-Document-shaped client ids. Loopback only: the suite never makes the server reach out further. */
const CIMD_LIKE_IDS = [
  'https://127.0.0.1/oauth/client.json',
  'https://127.0.0.1:1/client.json',
  'http://127.0.0.1:9/client.json',
  'https://localhost/oauth/client.json',
  'https://[::1]/client.json',
];

const unicodeText = fc.string({ unit: 'grapheme', maxLength: 40 });
const binaryText = fc.string({ unit: 'binary', maxLength: 40 });
/** Long enough to find length limits, short enough to keep a run quick. */
const longText = fc
  .tuple(
    fc.constantFrom('a', '%', '\u00e9', '\u{1F600}', '/', 'constructor'),
    fc.integer({ min: 1_000, max: 20_000 }),
  )
  .map(([unit, times]) => unit.repeat(times));

/** Every kind of value, weighted towards the ones that reach deep into the handlers. */
export function valueArbitrary(world: World): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...PROTOTYPE_NAMES) },
    { weight: 4, arbitrary: fc.constantFrom(...SPEC_VALUES) },
    { weight: 3, arbitrary: fc.constantFrom(...world.clientIds, ...world.redirectUris, world.username) },
    { weight: 1, arbitrary: fc.constantFrom(...CIMD_LIKE_IDS) },
    { weight: 1, arbitrary: fc.constantFrom(world.interactionId, `gatehouse_rt_${'A'.repeat(43)}_00000000`) },
    { weight: 2, arbitrary: fc.string({ maxLength: 12 }) },
    { weight: 2, arbitrary: unicodeText },
    { weight: 1, arbitrary: binaryText },
    { weight: 1, arbitrary: longText },
    { weight: 1, arbitrary: fc.constantFrom('', ' ', '%', '%zz', '%00', '+', '&', '=', '\u0000', '\r\n') },
  );
}

/** Parameter names: the specs', prototype names, and anything. */
export const nameArbitrary: fc.Arbitrary<string> = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...OAUTH_PARAMETER_NAMES) },
  { weight: 3, arbitrary: fc.constantFrom(...PROTOTYPE_NAMES) },
  { weight: 1, arbitrary: fc.string({ maxLength: 10 }) },
  { weight: 1, arbitrary: unicodeText },
);

/** Name/value pairs; names may repeat (RFC 6749 §3.1: parameters must not be included more than once). */
export function parametersArbitrary(world: World, maxLength = 8): fc.Arbitrary<[string, string][]> {
  return fc.array(fc.tuple(nameArbitrary, valueArbitrary(world)), { maxLength });
}

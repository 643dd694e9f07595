import fc from 'fast-check';

/**
 * Request methods: the ones every route meets, the ones none of ours supports, and odd tokens.
 * CONNECT is left out: it asks for a tunnel (RFC 9110 §9.3.6), which node:http hands to a
 * `connect` listener the server does not have, so the socket is closed without an answer by design.
 */
export const COMMON_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'] as const;
/** Registered or widely used methods no route supports. */
const UNSUPPORTED = ['TRACE', 'PROPFIND', 'MKCOL', 'LOCK', 'PURGE', 'QUERY', 'SEARCH', 'REPORT'] as const;
/** Not methods node:http knows, lower case, or not tokens at all (RFC 9110 §9.1: case-sensitive tokens). */
const ODD = [
  'get',
  'Post',
  'FOO',
  'BREW',
  'G@T',
  'POST\t',
  '__proto__',
  'constructor',
  'X'.repeat(300),
] as const;

export const methodArbitrary: fc.Arbitrary<string> = fc.oneof(
  { weight: 10, arbitrary: fc.constantFrom(...COMMON_METHODS) },
  { weight: 2, arbitrary: fc.constantFrom(...UNSUPPORTED) },
  { weight: 1, arbitrary: fc.constantFrom(...ODD) },
);

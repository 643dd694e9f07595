import fc from 'fast-check';
import type { World } from '../world.ts';
import { parametersArbitrary } from './values.ts';

/**
 * Request targets (RFC 9112 §3.2): every route the server knows, with and without fuzzed query
 * strings; unknown and near-miss paths; the absolute form; malformed targets.
 */

/** Every route of `gatehouse serve` that needs no identifier. */
export const KNOWN_PATHS = [
  '/',
  '/.well-known/oauth-authorization-server',
  '/.well-known/openid-configuration',
  '/.well-known/jwks.json',
  '/.well-known/oauth-protected-resource/mcp',
  '/.well-known/oauth-protected-resource',
  '/oauth/authorize',
  '/oauth/token',
  '/oauth/revoke',
  '/oauth/introspect',
  '/oauth/register',
  '/oauth/revocations',
  '/login',
  '/logout',
  '/account/apps',
  '/account/apps/revoke',
  '/mcp',
] as const;

/** The interaction routes, with the fixture's real id and with made-up ones. */
function interactionPath(world: World): fc.Arbitrary<string> {
  const id = fc.oneof(
    fc.constant(world.interactionId),
    fc.stringMatching(/^[A-Za-z0-9_-]{20,64}$/),
    fc.constantFrom('constructor', '__proto__', 'x', '..', '%2e%2e'),
  );
  return fc
    .tuple(id, fc.constantFrom('', '/login', '/consent', '/other'))
    .map(([i, a]) => `/interaction/${i}${a}`);
}

/** Near misses and paths no route has. */
const unknownPath = fc.oneof(
  fc.constantFrom(
    '/oauth/token/',
    '/OAUTH/TOKEN',
    '/oauth/%74oken',
    '//oauth/token',
    '/oauth//token',
    '/oauth/./token',
    '/oauth/../oauth/token',
    '/..%2f..%2fetc%2fpasswd',
    '/%00',
    '/%',
    '/interaction/',
    '/.well-known/',
    '/mcp/',
    '/mcp/../oauth/token',
    '/constructor',
    '/__proto__',
    '/assets/gatehouse.css',
  ),
  fc.webPath().map((p) => (p.startsWith('/') ? p : `/${p}`)),
  fc.integer({ min: 2_000, max: 12_000 }).map((n) => `/${'a'.repeat(n)}`),
);

/** A query string from fuzzed parameters; `wait` is dropped so the revocation long poll answers at once. */
function queryArbitrary(world: World): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 3, arbitrary: fc.constant('') },
    {
      weight: 4,
      arbitrary: parametersArbitrary(world).map((params) => {
        const query = new URLSearchParams(params.filter(([name]) => name !== 'wait')).toString();
        return query ? `?${query}` : '';
      }),
    },
    {
      weight: 1,
      arbitrary: fc.constantFrom('?', '?&&', '?a', '?=x', '?%zz=1', '?wait=0', '?wait=abc', '?#frag'),
    },
  );
}

/** Absolute-form and other targets a router must not choke on (finding 16: `http://[x]/` gave 500). */
function oddTarget(world: World): fc.Arbitrary<string> {
  return fc.constantFrom(
    `http://${world.host}/.well-known/oauth-authorization-server`,
    `http://${world.host}/oauth/token`,
    'http://[x]/',
    'http://%zz/',
    'http:///oauth/token',
    'http://a b/',
    'https://attacker.invalid/oauth/token',
    'mailto:a@b',
    '*',
    'oauth/token',
    '?x=1',
    '/oauth/token\u0000',
    '/\u00e9',
  );
}

export function targetArbitrary(world: World): fc.Arbitrary<string> {
  const path = fc.oneof(
    { weight: 8, arbitrary: fc.constantFrom(...KNOWN_PATHS) },
    { weight: 2, arbitrary: interactionPath(world) },
    { weight: 2, arbitrary: unknownPath },
  );
  return fc.oneof(
    { weight: 12, arbitrary: fc.tuple(path, queryArbitrary(world)).map(([p, q]) => p + q) },
    { weight: 1, arbitrary: oddTarget(world) },
  );
}

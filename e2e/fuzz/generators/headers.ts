import fc from 'fast-check';
import type { World } from '../world.ts';
import { PROTOTYPE_NAMES } from './values.ts';

/**
 * Request header fields, apart from Host and the body's framing (see request.ts): content types
 * right and wrong, Origin, Authorization with garbage and with real credentials, cookies, Accept.
 * Each generator yields zero or one field, so a shrunk counterexample drops the irrelevant ones.
 */
type Field = [string, string];

const CONTENT_TYPES = [
  'application/x-www-form-urlencoded',
  'application/x-www-form-urlencoded; charset=utf-8',
  'APPLICATION/X-WWW-FORM-URLENCODED',
  'application/x-www-form-urlencoded; charset=utf-16',
  'application/json',
  'application/json; charset=utf-8',
  'application/jwt',
  'text/plain',
  'text/html',
  'multipart/form-data; boundary=x',
  'application/x-www-form-urlencoded, application/json',
  '',
  ';;;',
];

const basic = (user: string, password: string) =>
  `Basic ${Buffer.from(`${encodeURIComponent(user)}:${encodeURIComponent(password)}`).toString('base64')}`;

export function authorizationArbitrary(world: World): fc.Arbitrary<string> {
  const [id, secret] = world.credentials[0] as [string, string];
  return fc.oneof(
    fc.constantFrom(
      basic(id, secret),
      basic(id, 'wrong-secret'),
      basic('no-such-client', secret),
      basic('__proto__', 'x'),
      basic('constructor', 'constructor'),
      `Basic ${Buffer.from('no-colon').toString('base64')}`,
      'Basic',
      'Basic !!!',
      'Basic ====',
      'Bearer',
      'Bearer ',
      'Bearer a.b.c',
      'Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.',
      `Bearer gatehouse_rt_${'A'.repeat(43)}_00000000`,
      'DPoP abc',
      'Digest username="x"',
      'bearer lower-case-scheme',
    ),
    fc.string({ maxLength: 60 }).map((s) => `Bearer ${s}`),
    fc.base64String({ maxLength: 60 }).map((s) => `Basic ${s}`),
  );
}

/** Origins as browsers send them; none is ever connected to. */
const ORIGINS = (world: World) => [
  world.issuer,
  'null',
  'https://attacker.invalid',
  'http://127.0.0.1:1',
  '',
];

const COOKIES = [
  '__proto__=1',
  'constructor=x; toString=y',
  'gatehouse_session=garbage',
  'gatehouse_csrf=; gatehouse_csrf=x',
  '=; ;;',
];

/** One optional field of each kind, then occasionally one with a prototype name or odd bytes. */
export function headersArbitrary(world: World): fc.Arbitrary<Field[]> {
  const optional = (name: string, values: fc.Arbitrary<string>) =>
    fc.option(
      values.map((v): Field => [name, v]),
      { nil: undefined, freq: 2 },
    );
  return fc
    .tuple(
      optional('content-type', fc.constantFrom(...CONTENT_TYPES)),
      optional('authorization', authorizationArbitrary(world)),
      optional('origin', fc.constantFrom(...ORIGINS(world))),
      optional('cookie', fc.constantFrom(...COOKIES)),
      optional('accept', fc.constantFrom('text/html', 'application/json', '*/*', 'text/event-stream', '')),
      optional('expect', fc.constantFrom('100-continue', 'nonsense')),
      optional('content-encoding', fc.constantFrom('gzip', 'br', 'identity')),
      fc.option(
        fc.tuple(
          fc.constantFrom(...PROTOTYPE_NAMES, 'x-forwarded-for', 'mcp-session-id'),
          fc.string({ maxLength: 20 }),
        ),
        { nil: undefined, freq: 4 },
      ),
    )
    .map((fields) => fields.filter((f): f is Field => f !== undefined));
}

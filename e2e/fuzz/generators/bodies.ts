import fc from 'fast-check';
import type { World } from '../world.ts';
import { parametersArbitrary } from './values.ts';

/**
 * Request bodies: forms and JSON objects made of fuzzed parameters (repeated names, prototype
 * names as keys and values), broken JSON, raw bytes, and forms padded past the 64 KiB limit.
 * `label` keeps a shrunk counterexample readable.
 */
export interface FuzzBody {
  label: 'none' | 'form' | 'json' | 'raw' | 'oversized form';
  /** Sent as UTF-8 (`raw` bodies hold one byte per character and are sent as latin1). */
  text: string;
}

/** A form as a client library would encode it, or by hand with stray percent signs and plus signs. */
function formArbitrary(world: World): fc.Arbitrary<string> {
  return fc.oneof(
    parametersArbitrary(world).map((params) => new URLSearchParams(params).toString()),
    parametersArbitrary(world).map((params) => params.map(([k, v]) => `${k}=${v}`).join('&')),
  );
}

/** A JSON value for one member: strings, arrays of them, and the other JSON types. */
function jsonMember(world: World): fc.Arbitrary<string> {
  const value = parametersArbitrary(world, 1).map((p) => p[0]?.[1] ?? '');
  return fc.oneof(
    { weight: 4, arbitrary: value.map((v) => JSON.stringify(v)) },
    { weight: 2, arbitrary: fc.array(value, { maxLength: 3 }).map((a) => JSON.stringify(a)) },
    {
      weight: 1,
      arbitrary: fc.constantFrom('null', 'true', '0', '-1', '1e309', '{}', '{"__proto__":{"x":1}}'),
    },
  );
}

/**
 * A JSON object written as text, so `__proto__` can be an own member (JSON.stringify of an object
 * literal would have dropped it) and names can repeat.
 */
export function jsonArbitrary(world: World): fc.Arbitrary<string> {
  const object = fc
    .array(fc.tuple(parametersArbitrary(world, 1), jsonMember(world)), { maxLength: 8 })
    .map((members) =>
      members.map(([name, value]) => `${JSON.stringify(name[0]?.[0] ?? 'redirect_uris')}:${value}`).join(','),
    )
    .map((inner) => `{${inner}}`);
  return fc.oneof(
    { weight: 6, arbitrary: object },
    {
      weight: 1,
      arbitrary: fc.constantFrom('[]', 'null', '"x"', '{', '{"a":', '\ufeff{}', '{}{}', '[{"__proto__":1}]'),
    },
  );
}

/**
 * Past the 64 KiB the Node adapter reads into memory, so these bodies arrive as a stream; up to
 * 1 MiB, because a few hundred KiB left unread is what overflows the socket's buffers and
 * stalls the connection (Trust finding 4), while 70 KiB is drained by node:http unnoticed.
 */
function oversizedArbitrary(world: World): fc.Arbitrary<string> {
  return fc
    .tuple(formArbitrary(world), fc.integer({ min: 64 * 1024 + 1, max: 1024 * 1024 }))
    .map(([form, size]) => `${form}&pad=${'a'.repeat(size)}`);
}

export function bodyArbitrary(world: World): fc.Arbitrary<FuzzBody> {
  const labelled = (label: FuzzBody['label'], text: fc.Arbitrary<string>) =>
    text.map((t): FuzzBody => ({ label, text: t }));
  return fc.oneof(
    { weight: 3, arbitrary: fc.constant<FuzzBody>({ label: 'none', text: '' }) },
    { weight: 5, arbitrary: labelled('form', formArbitrary(world)) },
    { weight: 3, arbitrary: labelled('json', jsonArbitrary(world)) },
    {
      weight: 1,
      arbitrary: labelled(
        'raw',
        fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b).toString('latin1')),
      ),
    },
    { weight: 1, arbitrary: labelled('oversized form', oversizedArbitrary(world)) },
  );
}

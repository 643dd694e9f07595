import fc from 'fast-check';
import type { World } from '../world.ts';
import { type FuzzBody, jsonArbitrary } from './bodies.ts';
import { authorizationArbitrary } from './headers.ts';
import type { FuzzRequest } from './request.ts';
import { PROTOTYPE_NAMES, parametersArbitrary, valueArbitrary } from './values.ts';

/**
 * Requests that get past the first checks of an endpoint: a POST with the right content type,
 * a real client id, and a `grant_type` / `token_type_hint` / `decision` that is a prototype name,
 * a spec value in the wrong place, or anything, plus fuzzed parameters. Fully random requests
 * rarely get this far; this is where lookups by user input (Trust finding 1) live.
 */
const FORM_ENDPOINTS = ['/oauth/token', '/oauth/revoke', '/oauth/introspect'] as const;

/** The value of the parameter each endpoint dispatches on. */
function dispatchValue(world: World): fc.Arbitrary<string> {
  return fc.oneof(fc.constantFrom(...PROTOTYPE_NAMES), valueArbitrary(world));
}

type Field = [string, string];

/** One of the fixture's clients, by id in the form or by its real credentials in Basic. */
function clientArbitrary(world: World): fc.Arbitrary<{ form: Field[]; headers: Field[] }> {
  return fc.oneof(
    fc.constantFrom(...world.clientIds).map((id) => ({ form: [['client_id', id] as Field], headers: [] })),
    authorizationArbitrary(world).map((value) => ({
      form: [],
      headers: [['authorization', value] as Field],
    })),
  );
}

function formRequest(world: World): fc.Arbitrary<FuzzRequest> {
  return fc
    .record({
      target: fc.constantFrom(...FORM_ENDPOINTS),
      dispatch: fc.constantFrom('grant_type', 'token_type_hint', 'token'),
      value: dispatchValue(world),
      client: clientArbitrary(world),
      rest: parametersArbitrary(world, 4),
    })
    .map(({ target, dispatch, value, client, rest }) => ({
      method: 'POST',
      target,
      headers: [['content-type', 'application/x-www-form-urlencoded'], ...client.headers] as [
        string,
        string,
      ][],
      body: {
        label: 'form',
        text: new URLSearchParams([[dispatch, value], ...client.form, ...rest]).toString(),
      } as FuzzBody,
      framing: 'content-length' as const,
    }));
}

function interactionRequest(world: World): fc.Arbitrary<FuzzRequest> {
  return fc
    .record({
      action: fc.constantFrom('/login', '/consent'),
      decision: dispatchValue(world),
      origin: fc.option(fc.constant(world.issuer), { nil: undefined }),
      rest: parametersArbitrary(world, 4),
    })
    .map(({ action, decision, origin, rest }) => ({
      method: 'POST',
      target: `/interaction/${world.interactionId}${action}`,
      headers: [
        ['content-type', 'application/x-www-form-urlencoded'],
        ...(origin === undefined ? [] : [['origin', origin]]),
      ] as [string, string][],
      body: {
        label: 'form',
        text: new URLSearchParams([['decision', decision], ['username', world.username], ...rest]).toString(),
      } as FuzzBody,
      framing: 'content-length' as const,
    }));
}

function registrationRequest(world: World): fc.Arbitrary<FuzzRequest> {
  return jsonArbitrary(world).map((text) => ({
    method: 'POST',
    target: '/oauth/register',
    headers: [['content-type', 'application/json']] as [string, string][],
    body: { label: 'json', text } as FuzzBody,
    framing: 'content-length' as const,
  }));
}

export function endpointRequestArbitrary(world: World): fc.Arbitrary<FuzzRequest> {
  return fc.oneof(
    { weight: 4, arbitrary: formRequest(world) },
    { weight: 1, arbitrary: interactionRequest(world) },
    { weight: 1, arbitrary: registrationRequest(world) },
  );
}

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isClientError } from '../errors.ts';
import { parseAuthorizationResponse } from './authorization.ts';
import { selectScope } from './scope.ts';

test('MCP scope selection: challenge scope first, then scopes_supported, else omitted', () => {
  assert.equal(selectScope({ challengeScope: 'a b', resourceScopesSupported: ['c'] }), 'a b');
  assert.equal(selectScope({ resourceScopesSupported: ['c', 'd'] }), 'c d');
  assert.equal(selectScope({}), undefined);
});

test('SEP-2350: step-up requests the union of held and challenged scopes', () => {
  assert.equal(selectScope({ challengeScope: 'write', held: ['basic'] }), 'basic write');
});

test('SEP-2207: offline_access only when the authorization server lists it', () => {
  assert.equal(
    selectScope({ challengeScope: 'a', serverScopesSupported: ['a', 'offline_access'] }),
    'a offline_access',
  );
  assert.equal(selectScope({ challengeScope: 'a', serverScopesSupported: ['a'] }), 'a');
});

test('RFC 9207 §2.4: iss is compared by exact string, required when advertised', () => {
  const ok = new URL('http://127.0.0.1/cb?code=c&state=s&iss=https%3A%2F%2Fas.example');
  assert.equal(
    parseAuthorizationResponse(ok, { state: 's', issuer: 'https://as.example', issRequired: true }),
    'c',
  );
  const slash = new URL('http://127.0.0.1/cb?code=c&state=s&iss=https%3A%2F%2Fas.example%2F');
  assert.throws(
    () => parseAuthorizationResponse(slash, { state: 's', issuer: 'https://as.example', issRequired: true }),
    (e) => isClientError(e, 'iss_mismatch'),
  );
  const none = new URL('http://127.0.0.1/cb?code=c&state=s');
  assert.throws(
    () => parseAuthorizationResponse(none, { state: 's', issuer: 'https://as.example', issRequired: true }),
    (e) => isClientError(e, 'iss_mismatch'),
  );
  assert.equal(
    parseAuthorizationResponse(none, { state: 's', issuer: 'https://as.example', issRequired: false }),
    'c',
  );
});

test('RFC 6749 §10.12: a response with another state is refused', () => {
  const res = new URL('http://127.0.0.1/cb?code=c&state=other');
  assert.throws(
    () => parseAuthorizationResponse(res, { state: 's', issuer: 'x', issRequired: false }),
    (e) => isClientError(e, 'state_mismatch'),
  );
});

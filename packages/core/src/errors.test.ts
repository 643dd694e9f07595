import assert from 'node:assert/strict';
import { test } from 'node:test';
import { errorRedirect, errorResponse, OAuthError } from './errors.ts';

test('RFC 6749 §5.2: errors are JSON with Cache-Control no-store and the code table status', async () => {
  const res = errorResponse(new OAuthError('invalid_grant', 'The code has expired.'));
  assert.equal(res.status, 400);
  assert.equal(res.headers.get('cache-control'), 'no-store');
  assert.deepEqual(await res.json(), { error: 'invalid_grant', error_description: 'The code has expired.' });
  assert.equal(errorResponse(new OAuthError('invalid_client')).status, 401);
});

test('unknown errors become server_error with no detail', async () => {
  const res = errorResponse(new Error('database password is hunter2'));
  assert.equal(res.status, 500);
  assert.deepEqual(await res.json(), { error: 'server_error' });
});

test('RFC 9207 §2: error redirects carry error, state and iss', () => {
  const res = errorRedirect('https://app.example/cb?x=1', new OAuthError('access_denied', 'denied'), {
    state: 's t',
    iss: 'https://as.example',
  });
  const url = new URL(res.headers.get('location') as string);
  assert.equal(res.status, 302);
  assert.equal(url.searchParams.get('x'), '1');
  assert.equal(url.searchParams.get('error'), 'access_denied');
  assert.equal(url.searchParams.get('state'), 's t');
  assert.equal(url.searchParams.get('iss'), 'https://as.example');
});

test('RFC 6749 §5.2: error_description holds only %x20-21 / %x23-5B / %x5D-7E, however the input it quotes looks', () => {
  const error = new OAuthError(
    'unsupported_grant_type',
    `The grant type "a\\b\u0000é${'x'.repeat(1000)}" is not supported.`,
  );
  const description = error.toJSON().error_description ?? '';
  assert.match(description, /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/);
  assert.ok(description.length <= 300, 'echoed input is cut short');
  assert.ok(description.startsWith("The grant type 'a/b??"));
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { OAuthError } from '@gatehouse/core';
import { isClientIdMetadataUrl, parseClientIdUrl } from './client-id-url.ts';

test('CIMD §3: an https URL client_id with a path is accepted as-is', () => {
  const url = parseClientIdUrl('https://app.example.com/oauth/client.json');
  assert.equal(url.hostname, 'app.example.com');
  assert.equal(parseClientIdUrl('https://app.example.com:8443/c?v=1').port, '8443');
});

const invalid = [
  ['http://app.example.com/client.json', 'a non-https scheme'],
  ['ftp://app.example.com/client.json', 'an ftp scheme'],
  ['https://app.example.com', 'no path'],
  ['https://app.example.com/', 'only the root path'],
  ['https://app.example.com/client.json#frag', 'a fragment'],
  ['https://app.example.com/client.json#', 'an empty fragment'],
  ['https://app.example.com/./client.json', 'a single-dot segment'],
  ['https://app.example.com/a/../client.json', 'a double-dot segment'],
  ['https://app.example.com/a/%2e%2E/client.json', 'a percent-encoded double-dot segment'],
  ['https://app.example.com/a/..', 'a trailing double-dot segment'],
  ['https://user@app.example.com/client.json', 'a username'],
  ['https://user:pw@app.example.com/client.json', 'a username and password'],
  ['https://APP.example.com/client.json', 'an upper-case host (not normalized)'],
  ['https://app.example.com:443/client.json', 'the default port (not normalized)'],
  ['https://app.example.com\\client.json', 'a backslash (not normalized)'],
  [' https://app.example.com/client.json', 'leading white space'],
  ['not a url', 'no URL at all'],
  [`https://app.example.com/${'a'.repeat(2100)}`, 'an excessive length'],
] as const;

for (const [clientId, label] of invalid) {
  test(`CIMD §3: a client_id URL with ${label} is refused with invalid_client`, () => {
    assert.throws(
      () => parseClientIdUrl(clientId),
      (err) => err instanceof OAuthError && err.code === 'invalid_client',
    );
  });
}

test('CIMD §3: http client_id URLs are accepted only with the dangerouslyAllowInsecureHttp opt-in', () => {
  assert.throws(() => parseClientIdUrl('http://127.0.0.1:9000/client.json'), OAuthError);
  const url = parseClientIdUrl('http://127.0.0.1:9000/client.json', { dangerouslyAllowInsecureHttp: true });
  assert.equal(url.port, '9000');
});

test('CIMD §6.6: isClientIdMetadataUrl routes URL client_ids to CIMD and everything else elsewhere', () => {
  assert.equal(isClientIdMetadataUrl('https://app.example.com/client.json'), true);
  assert.equal(isClientIdMetadataUrl('HTTPS://app.example.com/client.json'), true);
  assert.equal(isClientIdMetadataUrl('http://127.0.0.1:9000/client.json'), true);
  assert.equal(isClientIdMetadataUrl('gh_3f9a0c'), false);
  assert.equal(isClientIdMetadataUrl('urn:example:client'), false);
  assert.equal(isClientIdMetadataUrl('httpsclient'), false);
});

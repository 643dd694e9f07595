import assert from 'node:assert/strict';
import { test } from 'node:test';
import { matchRedirectUri, validateRedirectUri } from './redirect-uri.ts';

test('OAuth 2.1 §2.3.1: redirect URIs match exactly: no prefix, case, path or query variations', () => {
  const registered = ['https://app.example/callback'];
  assert.ok(matchRedirectUri(registered, 'https://app.example/callback'));
  assert.ok(!matchRedirectUri(registered, 'https://app.example/callback/'));
  assert.ok(!matchRedirectUri(registered, 'https://app.example/callback?x=1'));
  assert.ok(!matchRedirectUri(registered, 'https://APP.example/callback'.replace('APP', 'evil')));
  assert.ok(!matchRedirectUri(registered, 'https://app.example:444/callback'));
});

test('RFC 8252 §7.3: any port on a loopback redirect (IP literal or localhost), nothing else may differ', () => {
  const registered = ['http://127.0.0.1/callback', 'http://[::1]:8000/cb'];
  assert.ok(matchRedirectUri(registered, 'http://127.0.0.1:53211/callback'));
  assert.ok(matchRedirectUri(registered, 'http://[::1]:1234/cb'));
  assert.ok(!matchRedirectUri(registered, 'http://127.0.0.1:53211/other'));
  assert.ok(matchRedirectUri(['http://localhost/callback'], 'http://localhost:9999/callback'));
  assert.ok(!matchRedirectUri(['http://localhost/callback'], 'http://127.0.0.1:9999/callback'));
  assert.ok(!matchRedirectUri(['https://127.0.0.1/callback'], 'https://127.0.0.1:9999/callback'));
});

test('RFC 7591 §2 / RFC 9700 §2.1: registered redirect URIs refuse fragments, javascript:, data: and remote http', () => {
  for (const bad of [
    'https://app.example/cb#frag',
    'javascript:alert(1)',
    'data:text/html,hi',
    'http://app.example/cb',
    'relative/path',
    'myapp:/cb',
  ]) {
    assert.throws(() => validateRedirectUri(bad), { code: 'invalid_redirect_uri' }, bad);
  }
  for (const good of [
    'https://app.example/cb',
    'http://127.0.0.1/cb',
    'http://localhost:3000/cb',
    'com.example.app:/cb',
  ]) {
    validateRedirectUri(good);
  }
});

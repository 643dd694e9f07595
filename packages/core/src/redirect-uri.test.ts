import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isLoopbackHost, matchRedirectUri, redirectUriProblem, validateRedirectUri } from './redirect-uri.ts';

test('OAuth 2.1 §2.3.1: redirect URIs match exactly, character for character', () => {
  const registered = ['https://app.example/callback'];
  assert.ok(matchRedirectUri(registered, 'https://app.example/callback'));
  assert.ok(!matchRedirectUri(registered, 'https://app.example/callback/'));
  assert.ok(!matchRedirectUri(registered, 'https://app.example/callback?x=1'));
  assert.ok(!matchRedirectUri(registered, 'https://evil.example/callback'));
  assert.ok(!matchRedirectUri(registered, 'https://app.example:444/callback'));
  assert.ok(!matchRedirectUri(registered, 'not a url'));
});

test('RFC 8252 §7.3: only the port of an http loopback redirect may differ, on the same host', () => {
  const registered = ['http://127.0.0.1/callback', 'http://[::1]/cb'];
  assert.ok(matchRedirectUri(registered, 'http://127.0.0.1:53211/callback'));
  assert.ok(matchRedirectUri(registered, 'http://[::1]:1234/cb'));
  assert.ok(!matchRedirectUri(registered, 'http://127.0.0.1:53211/other'));
  assert.ok(matchRedirectUri(['http://localhost/callback'], 'http://localhost:9999/callback'));
  assert.ok(!matchRedirectUri(['http://localhost/callback'], 'http://127.0.0.1:9999/callback'));
  assert.ok(!matchRedirectUri(['https://127.0.0.1/callback'], 'https://127.0.0.1:9999/callback'));
  assert.ok(!matchRedirectUri(['http://127.0.0.1/callback'], 'http://127.0.0.2:9999/callback'));
});

test('RFC 8252 §7.3: the loopback hosts are 127.0.0.1, [::1] and localhost, nothing that merely looks like them', () => {
  for (const host of ['127.0.0.1', '[::1]', 'localhost']) assert.ok(isLoopbackHost(host), host);
  for (const host of ['127.0.0.1.evil.example', 'localhost.evil.example', '::1', '0.0.0.0', '10.0.0.1', '']) {
    assert.ok(!isLoopbackHost(host), host);
  }
});

test('RFC 9700 §2.1, RFC 8252 §7.1: registered redirect URIs refuse fragments, userinfo, script-like schemes, remote http and dotless private-use schemes', () => {
  for (const bad of [
    'https://app.example/cb#frag',
    'https://app.example/cb#',
    'https://user:pw@app.example/cb',
    'javascript:alert(1)',
    'data:text/html,hi',
    'file:///etc/passwd',
    'vbscript:msgbox',
    'blob:https://app.example/uuid',
    'about:blank',
    'http://app.example/cb',
    'http://127.0.0.1.evil.example/cb',
    'relative/path',
    'myapp:/cb',
  ]) {
    assert.ok(redirectUriProblem(bad), bad);
    assert.throws(() => validateRedirectUri(bad), { code: 'invalid_redirect_uri' }, bad);
  }
  for (const good of [
    'https://app.example/cb',
    'http://127.0.0.1/cb',
    'http://[::1]:8080/cb',
    'http://localhost:3000/cb',
    'com.example.app:/cb',
  ]) {
    assert.equal(redirectUriProblem(good), undefined, good);
    validateRedirectUri(good);
  }
});

test('RFC 7591 §3.2.2: a refused redirect URI is named in a sentence', () => {
  assert.throws(() => validateRedirectUri('javascript:alert(1)'), {
    code: 'invalid_redirect_uri',
    description:
      "The redirect URI 'javascript:alert(1)' is refused: the 'javascript:' scheme is not allowed.",
  });
});

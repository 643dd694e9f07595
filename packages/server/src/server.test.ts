import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pathOf } from './server.ts';

test('the router reads the same path from a Request URL as new URL().pathname does', () => {
  const targets = [
    'http://127.0.0.1:8080/oauth/token',
    'http://127.0.0.1:8080/oauth/token?x=1',
    'http://127.0.0.1:8080/a/b#frag?not-query',
    'http://127.0.0.1:8080/a?q=1#f',
    'https://auth.example.com',
    'https://auth.example.com:8443/x/%2e%2e/y',
    'http://[::1]:9000/interaction/abc/login',
    'http://127.0.0.1//double//slash',
    'http://127.0.0.1/a/../b/./c',
    'http://127.0.0.1/sp ace/é',
  ];
  for (const target of targets) {
    const url = new Request(target).url;
    assert.equal(pathOf(url), new URL(url).pathname, url);
  }
  assert.equal(pathOf('https://user:pw@auth.example.com/x?y'), '/x');
  assert.equal(pathOf('file:///tmp/x'), '/tmp/x');
});

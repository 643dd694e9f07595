import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pathOf, Router } from './router.ts';

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

test('the router matches static paths and :param segments, and never matches an empty parameter', () => {
  const handler = () => new Response(null);
  const router = new Router()
    .add('/oauth/token', { POST: handler })
    .add('/interaction/:id', { GET: handler })
    .add('/interaction/:id/login', { POST: handler });
  assert.equal(router.match('/oauth/token')?.route.allow, 'POST');
  assert.equal(router.match('/interaction/abc')?.params.get('id'), 'abc');
  assert.equal(router.match('/interaction/abc/login')?.params.get('id'), 'abc');
  assert.equal(router.match('/interaction/'), undefined);
  assert.equal(router.match('/interaction/abc/other'), undefined);
  assert.equal(router.match('/constructor'), undefined);
  assert.equal(router.match('/__proto__'), undefined);
});

test("RFC 9110 §10.2.1: a route's Allow lists its methods, and OPTIONS where it answers CORS preflights", () => {
  const handler = () => new Response(null);
  const router = new Router()
    .add('/a', { GET: handler, POST: handler })
    .add('/c', { GET: handler }, { head: false })
    .add('/b', { POST: handler }, { cors: true });
  assert.equal(router.match('/a')?.route.allow, 'GET, HEAD, POST', 'RFC 9110 §9.3.2: HEAD wherever GET');
  assert.equal(router.match('/c')?.route.allow, 'GET', 'unless the GET has side effects');
  assert.equal(router.match('/b')?.route.allow, 'POST, OPTIONS');
  assert.equal(router.match('/b')?.route.methods.get('constructor'), undefined);
});

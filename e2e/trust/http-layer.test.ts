import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { inspect } from 'node:util';
import type { ErrorContext } from '@gatehouse/core';
import { RawConnection, type RawResponse } from '../fuzz/wire.ts';
import { type InProcessServer, startInProcess } from '../helpers/in-process.ts';

/**
 * The one HTTP layer of the authorization server (Trust issue): grant types looked up in a Map,
 * registration that can be switched off, 405 with Allow, 413 and connection handling for bodies
 * left unread, CORS where browsers call, request ids and the onError hook, malformed targets.
 */
let s: InProcessServer;
const errors: Array<{ error: unknown; context: ErrorContext }> = [];
const PROTOTYPE_NAMES = ['constructor', 'toString', '__proto__', 'hasOwnProperty', 'valueOf', 'prototype'];
const CLIENT = 'prototype-names-client';

before(async () => {
  s = await startInProcess({ onError: (error, context) => errors.push({ error, context }) });
  // A record as a careless metadata document could once have produced: any string in grant_types.
  await s.addClient({
    client_id: CLIENT,
    redirect_uris: ['http://127.0.0.1/cb'],
    grant_types: ['authorization_code', ...PROTOTYPE_NAMES],
  });
});
after(() => s?.close());

const port = () => Number(new URL(s.url).port);

/** One raw request on a fresh connection; the connection is returned for follow-ups. */
async function raw(
  text: string,
  body: Buffer | string = '',
): Promise<{ res: RawResponse; conn: RawConnection }> {
  const conn = await RawConnection.open(port(), 2000);
  conn.write(Buffer.concat([Buffer.from(text.replaceAll('\n', '\r\n')), Buffer.from(body)]));
  const res = await conn.readResponse(text.startsWith('HEAD'), 5000);
  if (typeof res === 'string') throw new Error(`no response: ${res}`);
  return { res, conn };
}

/** Whether a GET of the metadata is answered on `conn` (a kept-alive connection must still work). */
async function stillAnswers(conn: RawConnection): Promise<boolean> {
  conn.write(Buffer.from('GET /.well-known/oauth-authorization-server HTTP/1.1\r\nhost: x\r\n\r\n'));
  const res = await conn.readResponse(false, 3000);
  return typeof res !== 'string' && res.status === 200;
}

describe('grant types named by the request', () => {
  for (const name of PROTOTYPE_NAMES) {
    test(`RFC 6749 §5.2: grant_type=${name} is unsupported_grant_type and reveals nothing`, async () => {
      const response = await fetch(`${s.issuer}/oauth/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: name, client_id: CLIENT }),
      });
      const text = await response.text();
      assert.equal(response.status, 400, text);
      assert.equal(JSON.parse(text).error, 'unsupported_grant_type');
      assert.ok(!text.includes(s.masterSecret), 'the master secret is not in the body');
    });
  }

  test('the master secret is on nothing a handler could return or a logger print', () => {
    for (const value of [s.as, s.as.context, s.as.context.config]) {
      assert.ok(!inspect(value, { depth: 8, showHidden: true }).includes(s.masterSecret));
    }
  });
});

describe('methods', () => {
  test('RFC 9110 §15.5.6: a method a route does not serve gets 405 with Allow', async () => {
    for (const [path, method, allow] of [
      ['/oauth/token', 'GET', 'POST, OPTIONS'],
      ['/oauth/introspect', 'PUT', 'POST'],
      ['/.well-known/jwks.json', 'POST', 'GET, HEAD, OPTIONS'],
      ['/oauth/authorize', 'DELETE', 'GET, POST'],
      ['/login', 'PATCH', 'GET, HEAD, POST'],
    ] as const) {
      const response = await fetch(`${s.issuer}${path}`, { method });
      assert.equal(response.status, 405, `${method} ${path}`);
      assert.equal(response.headers.get('allow'), allow, `${method} ${path}`);
      // Pages (the authorization endpoint, sign-in) answer with a page; OAuth endpoints with JSON.
      if ((response.headers.get('content-type') ?? '').startsWith('text/html')) {
        assert.ok(['/oauth/authorize', '/login'].includes(path), path);
        await response.body?.cancel();
      } else assert.equal((await response.json()).error, 'invalid_request');
    }
  });

  test('RFC 9110 §9.3.2: HEAD on the authorization endpoint never issues a code or starts an interaction', async () => {
    const url = new URL(`${s.issuer}/oauth/authorize`);
    url.search = new URLSearchParams({
      client_id: CLIENT,
      response_type: 'code',
      redirect_uri: 'http://127.0.0.1/cb',
      code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
      code_challenge_method: 'S256',
    }).toString();
    const response = await fetch(url, { method: 'HEAD', redirect: 'manual' });
    assert.equal(response.status, 405);
    assert.equal(response.headers.get('location'), null);
  });

  test('RFC 7009 §2.1: an unknown token_type_hint is ignored, not refused', async () => {
    const response = await fetch(`${s.issuer}/oauth/revoke`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: 'whatever', token_type_hint: 'constructor', client_id: CLIENT }),
    });
    assert.equal(response.status, 200);
  });
});

describe('bodies left unread', () => {
  test('RFC 9112 §9.6: a chunked body refused over the limit gets 413 and connection: close, and is read whole', async () => {
    const chunk = 'a'.repeat(8192);
    const chunks = Array.from({ length: 20 }, () => `${chunk.length.toString(16)}\r\n${chunk}\r\n`).join('');
    const { res, conn } = await raw(
      'POST /oauth/token HTTP/1.1\nhost: x\ncontent-type: application/x-www-form-urlencoded\ntransfer-encoding: chunked\n\n',
      `${chunks}0\r\n\r\n`,
    );
    assert.equal(res.status, 413);
    assert.equal(res.headers.get('connection')?.[0], 'close');
    assert.equal(JSON.parse(res.body.toString()).error, 'invalid_request');
    conn.close();
  });

  test('RFC 9112 §9.6: a declared body over the route limit gets 413 and connection: close before it is sent', async () => {
    const { res, conn } = await raw(
      'POST /oauth/register HTTP/1.1\nhost: x\ncontent-type: application/json\ncontent-length: 10000000\n\n',
      '{"redirect_uris":',
    );
    assert.equal(res.status, 413);
    assert.equal(res.headers.get('connection')?.[0], 'close');
    conn.close();
  });

  for (const [what, head] of [
    ['a wrong content type', 'POST /oauth/token HTTP/1.1\nhost: x\ncontent-type: text/plain\n'],
    ['an unknown path', 'POST /nowhere HTTP/1.1\nhost: x\ncontent-type: application/x-www-form-urlencoded\n'],
    ['a method the route does not serve', 'PUT /oauth/token HTTP/1.1\nhost: x\n'],
    [
      'an expired interaction',
      `POST /interaction/${'x'.repeat(32)}/login HTTP/1.1\nhost: x\ncontent-type: application/x-www-form-urlencoded\n`,
    ],
  ] as const) {
    test(`RFC 9112 §9.6: after ${what} with a streamed body, the connection is closed or still answers`, async () => {
      // Larger than the adapter buffers, so the body is streamed and may be left unread.
      const body = `a=${'b'.repeat(100 * 1024)}`;
      const { res, conn } = await raw(`${head}content-length: ${body.length}\n\n`, body);
      assert.ok(res.status >= 400 && res.status < 500, String(res.status));
      if (res.headers.get('connection')?.[0] === 'close') {
        const fresh = await RawConnection.open(port(), 2000);
        assert.ok(await stillAnswers(fresh), 'a new connection works');
        fresh.close();
      } else {
        assert.ok(await stillAnswers(conn), 'the kept-alive connection answers the next request');
      }
      conn.close();
    });
  }
});

describe('CORS where browsers call', () => {
  test('Fetch §3.2: metadata, JWKS, registration, token and revocation answer preflights and allow any origin', async () => {
    for (const path of [
      '/.well-known/oauth-authorization-server',
      '/.well-known/jwks.json',
      '/oauth/register',
      '/oauth/token',
      '/oauth/revoke',
    ]) {
      const preflight = await fetch(`${s.issuer}${path}`, {
        method: 'OPTIONS',
        headers: {
          origin: 'https://app.example',
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'content-type',
        },
      });
      assert.equal(preflight.status, 204, path);
      assert.equal(preflight.headers.get('access-control-allow-origin'), '*', path);
      assert.match(preflight.headers.get('access-control-allow-headers') ?? '', /content-type/);
    }
    const metadata = await fetch(`${s.issuer}/.well-known/oauth-authorization-server`, {
      headers: { origin: 'https://app.example' },
    });
    assert.equal(metadata.headers.get('access-control-allow-origin'), '*');
    await metadata.body?.cancel();
  });

  test('pages, cookie-bearing routes and introspection stay same-origin', async () => {
    for (const path of ['/login', '/account/apps', '/oauth/introspect', '/oauth/authorize']) {
      const response = await fetch(`${s.issuer}${path}`, {
        method: 'OPTIONS',
        headers: { origin: 'https://app.example', 'access-control-request-method': 'POST' },
      });
      assert.equal(response.headers.get('access-control-allow-origin'), null, path);
      assert.equal(response.status, 405, path);
      await response.body?.cancel();
    }
  });
});

describe('errors the operator must see', () => {
  test('an unexpected error is server_error for the client and reaches onError with the request id, no stack', async () => {
    errors.length = 0;
    s.as.mount('/trust/boom', {
      GET: () => {
        throw new Error('store unreachable: connection refused');
      },
    });
    const response = await fetch(`${s.issuer}/trust/boom`, { headers: { 'x-request-id': 'req-42' } });
    const text = await response.text();
    assert.equal(response.status, 500);
    assert.deepEqual(JSON.parse(text), { error: 'server_error' });
    assert.equal(response.headers.get('x-request-id'), 'req-42');
    assert.equal(errors.length, 1);
    assert.deepEqual(errors[0]?.context, { requestId: 'req-42', method: 'GET', path: '/trust/boom' });
    assert.match(String(errors[0]?.error), /store unreachable/);
  });

  test('every response carries a request id; a malformed one from the caller is replaced', async () => {
    const response = await fetch(`${s.issuer}/.well-known/jwks.json`, {
      headers: { 'x-request-id': `a b ${'x'.repeat(100)}` },
    });
    assert.match(response.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);
    await response.body?.cancel();
  });

  test('RFC 9112 §3.2: a malformed absolute-form target is 400, not 500', async () => {
    const { res, conn } = await raw('GET http://[x]/ HTTP/1.1\nhost: x\n\n');
    assert.equal(res.status, 400);
    assert.equal(JSON.parse(res.body.toString()).error, 'invalid_request');
    conn.close();
  });

  test('RFC 9110 §15.6.2: TRACE, which no route serves, gets 501 rather than a crash', async () => {
    for (const line of ['TRACE / HTTP/1.1', 'TRACE /oauth/token HTTP/1.1']) {
      const { res, conn } = await raw(`${line}\nhost: x\n\n`);
      assert.equal(res.status, 501, line);
      assert.equal(JSON.parse(res.body.toString()).error, 'invalid_request');
      conn.close();
    }
  });

  test('the request signal aborts when the client goes away, so long work can stop', async () => {
    let aborted!: () => void;
    const sawAbort = new Promise<void>((resolve) => {
      aborted = resolve;
    });
    s.as.mount('/trust/slow', {
      GET: (request) =>
        new Promise<Response>((resolve) => {
          request.signal.addEventListener('abort', () => {
            aborted();
            resolve(new Response(null));
          });
        }),
    });
    const client = new AbortController();
    const pending = fetch(`${s.issuer}/trust/slow`, { signal: client.signal }).catch(() => undefined);
    setTimeout(() => client.abort(), 100);
    await pending;
    await sawAbort;
  });
});

describe('registration switched off', () => {
  test('RFC 7591 §3: with registration.enabled false there is no registration endpoint at all', async (t) => {
    const closed = await startInProcess({ registration: { enabled: false } });
    t.after(() => closed.close());
    const metadata = await (await fetch(`${closed.issuer}/.well-known/oauth-authorization-server`)).json();
    assert.equal(metadata.registration_endpoint, undefined);
    const response = await fetch(`${closed.issuer}/oauth/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ redirect_uris: ['https://a.example/cb'], token_endpoint_auth_method: 'none' }),
    });
    assert.equal(response.status, 404);
    await response.body?.cancel();
    assert.equal(await closed.store.countClients('dcr'), 0);
  });
});

describe('the front door', () => {
  test('GET / says what this server is and links its MCP server, sign-in and metadata; no OIDC discovery without OIDC', async () => {
    const response = await fetch(`${s.issuer}/`);
    const body = await response.text();
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/);
    assert.ok(body.includes(`${s.issuer}/mcp`), 'links the MCP server');
    assert.ok(body.includes('href="/login"'), 'links sign-in');
    assert.ok(body.includes('/.well-known/oauth-authorization-server'), 'links the metadata');
    // OpenID Connect Discovery §3 requires fields an OAuth-only server cannot give: serve nothing.
    const oidc = await fetch(`${s.issuer}/.well-known/openid-configuration`);
    assert.equal(oidc.status, 404);
    await oidc.body?.cancel();
  });
});

describe('error shapes', () => {
  test('RFC 6749 §5.2: OAuth endpoints answer JSON errors even to a browser; pages answer pages', async () => {
    const token = await fetch(`${s.issuer}/oauth/token`, { headers: { accept: 'text/html' } });
    assert.equal(token.status, 405);
    assert.match(token.headers.get('content-type') ?? '', /^application\/json/);
    assert.equal((await token.json()).error, 'invalid_request');
    const login = await fetch(`${s.issuer}/login`, { method: 'DELETE', headers: { accept: 'text/html' } });
    assert.equal(login.status, 405);
    assert.match(login.headers.get('content-type') ?? '', /^text\/html/);
    assert.match(login.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/);
    await login.body?.cancel();
  });
});

describe('client authentication', () => {
  test('RFC 6749 §2.3: Basic credentials together with client_assertion_type are two methods at once (invalid_request)', async () => {
    const response = await fetch(`${s.issuer}/oauth/revoke`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(`${CLIENT}:x`).toString('base64')}`,
      },
      body: new URLSearchParams({ token: 't', client_assertion_type: '' }),
    });
    assert.equal(response.status, 400);
    assert.equal((await response.json()).error, 'invalid_request');
  });
});

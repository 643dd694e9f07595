import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { parseBearerChallenge } from '@gatehouse/core';
import { type AuthInfo, createGuard, type GuardOptions } from '../src/index.ts';
import { startTestAuthorizationServer, type TestAuthorizationServer } from './fixture-as.ts';

const RESOURCE = 'http://127.0.0.1:9999/mcp';
const manifest = {
  tools: { read_file: 'tools:execute:filesystem', query: 'tools:execute:database' },
  resources: [{ uriTemplate: 'demo://tables/{table}', scope: 'resources:read:database' }],
};

let clock = Date.parse('2026-01-01T00:00:00Z');
const now = () => clock;
let as: TestAuthorizationServer;
before(async () => {
  as = await startTestAuthorizationServer({ now, resource: RESOURCE });
});
after(() => as.close());

function makeGuard(extra: Partial<GuardOptions> = {}) {
  const guard = createGuard({
    resource: RESOURCE,
    authorizationServers: [as.issuer],
    manifest,
    now,
    ...extra,
  });
  let seen: AuthInfo | undefined;
  const handler = guard.wrap(async (_req, auth) => {
    seen = auth;
    return Response.json({ ok: true });
  });
  return { guard, handler, seen: () => seen };
}

function rpc(method: string, params: Record<string, unknown> = {}, id = 1) {
  return { jsonrpc: '2.0', id, method, params };
}

function post(body: unknown, token?: string, headers: Record<string, string> = {}, url = RESOURCE) {
  return new Request(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...headers,
    },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

function challenge(res: Response) {
  return parseBearerChallenge(res.headers.get('www-authenticate') ?? '') ?? {};
}

describe('protected resource metadata', () => {
  test('RFC 9728 §3.1: metadata is served at the path-inserted well-known URL and the root form', async () => {
    const { handler } = makeGuard();
    for (const path of [
      '/.well-known/oauth-protected-resource/mcp',
      '/.well-known/oauth-protected-resource',
    ]) {
      const res = await handler(new Request(`http://127.0.0.1:9999${path}`));
      assert.equal(res.status, 200);
      const doc = await res.json();
      assert.equal(doc.resource, RESOURCE);
      assert.deepEqual(doc.authorization_servers, [as.issuer]);
      assert.deepEqual(doc.bearer_methods_supported, ['header']);
      assert.ok(doc.scopes_supported.includes('tools:execute:database'));
    }
  });

  test('MCP authorization: scopes_supported never lists offline_access', () => {
    const { guard } = makeGuard({ scopesSupported: ['tools:list', 'offline_access'] });
    assert.deepEqual(guard.protectedResourceMetadata().scopes_supported, ['tools:list']);
  });
});

describe('authentication', () => {
  test('RFC 6750 §3.1: a request without a token gets 401 with no error code, resource_metadata and scope', async () => {
    const { handler } = makeGuard();
    const res = await handler(post(rpc('tools/call', { name: 'query' })));
    assert.equal(res.status, 401);
    const c = challenge(res);
    assert.equal(c.error, undefined);
    assert.equal(c.resource_metadata, 'http://127.0.0.1:9999/.well-known/oauth-protected-resource/mcp');
    assert.equal(c.scope, 'tools:execute:database');
  });

  test('RFC 6750 §2.3 / RFC 9700: a token in the query string is refused with 400 invalid_request', async () => {
    const { handler } = makeGuard();
    const token = await as.mint();
    const res = await handler(post(rpc('ping'), undefined, {}, `${RESOURCE}?access_token=${token}`));
    assert.equal(res.status, 400);
    assert.equal(challenge(res).error, 'invalid_request');
  });

  test('RFC 6750 §3.1: a malformed Authorization header gets 400 invalid_request', async () => {
    const { handler } = makeGuard();
    const res = await handler(post(rpc('ping'), undefined, { authorization: 'Bearer a b' }));
    assert.equal(res.status, 400);
  });

  test('RFC 9068 §4: a valid token reaches the handler with the user, the client and the scopes', async () => {
    const { handler, seen } = makeGuard();
    const token = await as.mint({ sub: 'alice', client_id: 'claude', scope: 'tools:list', gid: 'g1' });
    const res = await handler(post(rpc('tools/list'), token));
    assert.equal(res.status, 200);
    const auth = seen();
    assert.equal(auth?.subject, 'alice');
    assert.equal(auth?.clientId, 'claude');
    assert.deepEqual(auth?.scopes, ['tools:list']);
    assert.equal(auth?.grantId, 'g1');
    assert.equal(auth?.resource.href, RESOURCE);
  });

  test('the handler gets the body parsed once by the guard and a request whose body is still readable', async () => {
    const guard = createGuard({ resource: RESOURCE, authorizationServers: [as.issuer], manifest, now });
    const token = await as.mint({ scope: 'tools:execute' });
    const body = rpc('tools/call', { name: 'query', arguments: { sql: 'SELECT 1 -- é' } });
    const abort = new AbortController();
    let seen: { text: string; parsed: unknown; aborted: boolean } | undefined;
    const handler = guard.wrap(async (request, _auth, { parsedBody, operations }) => {
      assert.equal(operations[0]?.method, 'tools/call');
      abort.abort();
      seen = { text: await request.text(), parsed: parsedBody, aborted: request.signal.aborted };
      return Response.json({ ok: true });
    });
    const request = new Request(RESOURCE, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify(body),
      signal: abort.signal,
    });
    assert.equal((await handler(request)).status, 200);
    assert.equal(seen?.text, JSON.stringify(body));
    assert.deepEqual(seen?.parsed, body);
    assert.equal(seen?.aborted, true, 'the client going away still reaches the handler');
    // check() leaves the caller's request unread (the Hono adapter hands it on as is).
    const checked = post(body, token);
    const result = await guard.check(checked);
    assert.ok(!(result instanceof Response));
    assert.deepEqual(result.parsedBody, body);
    assert.deepEqual(await checked.json(), body);
    // An adapter that holds the body already hands it over; the request's own body is not read.
    const headOnly = new Request(RESOURCE, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
    const given = await guard.check(headOnly, new TextEncoder().encode(JSON.stringify(body)));
    assert.ok(!(given instanceof Response));
    assert.deepEqual(given.parsedBody, body);
    const small = createGuard({ resource: RESOURCE, authorizationServers: [as.issuer], maxBodyBytes: 8 });
    assert.equal(((await small.check(headOnly, JSON.stringify(body))) as Response).status, 413);
  });

  test('a body over maxBodyBytes is refused with 413 before it is parsed', async () => {
    const { handler } = makeGuard({ maxBodyBytes: 64 });
    const token = await as.mint({ scope: 'tools:execute' });
    const big = rpc('tools/call', { name: 'query', arguments: { sql: 'x'.repeat(100) } });
    const stream = new Blob([JSON.stringify(big)]).stream();
    const streamed = new Request(RESOURCE, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: stream,
      duplex: 'half',
    } as RequestInit);
    assert.equal((await handler(streamed)).status, 413);
    assert.equal((await handler(post(big, token))).status, 413);
  });

  test('RFC 8707: a token for another resource gets 401 invalid_token', async () => {
    const { handler } = makeGuard();
    const token = await as.mint({ aud: 'http://127.0.0.1:9999/other', scope: 'tools:list' });
    const res = await handler(post(rpc('tools/list'), token));
    assert.equal(res.status, 401);
    assert.equal(challenge(res).error, 'invalid_token');
    assert.match(challenge(res).error_description ?? '', /not meant for this resource/);
  });

  test('RFC 9068 §4: an expired token is refused, and a small clock skew is tolerated', async () => {
    const { handler } = makeGuard();
    const token = await as.mint({ scope: 'tools:list', expiresIn: 60 });
    clock += 60_000 + 10_000; // 10 s past exp: within the 30 s skew
    assert.equal((await handler(post(rpc('tools/list'), token))).status, 200);
    clock += 30_000;
    const res = await handler(post(rpc('tools/list'), token));
    assert.equal(res.status, 401);
    assert.match(challenge(res).error_description ?? '', /expired/);
  });

  test('RFC 9068 §4: a token whose nbf lies in the future is refused', async () => {
    const { handler } = makeGuard();
    const token = await as.mint({ scope: 'tools:list', nbf: Math.floor(clock / 1000) + 600 });
    assert.equal((await handler(post(rpc('tools/list'), token))).status, 401);
  });

  test('RFC 9068 §2.1: a JWT without typ at+jwt is refused (an ID token is not an access token)', async () => {
    const { handler } = makeGuard();
    const token = await as.mint({ scope: 'tools:list', typ: 'JWT' });
    assert.equal((await handler(post(rpc('tools/list'), token))).status, 401);
  });

  test('RFC 8725 §3.1: alg none and keys outside the JWKS are refused', async () => {
    const { handler } = makeGuard();
    const signed = await as.mint({ scope: 'tools:list' });
    const [, payload] = signed.split('.');
    const header = Buffer.from(JSON.stringify({ alg: 'none', typ: 'at+jwt' })).toString('base64url');
    const unsigned = `${header}.${payload}.`;
    assert.equal((await handler(post(rpc('tools/list'), unsigned))).status, 401);
    const forged = await as.mint({ scope: 'tools:list', foreignKey: true });
    assert.equal((await handler(post(rpc('tools/list'), forged))).status, 401);
  });

  test('RFC 9068 §4: a token from an untrusted issuer is refused', async () => {
    const { handler } = makeGuard();
    const token = await as.mint({ scope: 'tools:list', iss: 'http://127.0.0.1:1/evil' });
    assert.equal((await handler(post(rpc('tools/list'), token))).status, 401);
  });

  test('a verified token is cached: repeated requests fetch neither metadata nor keys again', async () => {
    const { handler } = makeGuard();
    const token = await as.mint({ scope: 'tools:list' });
    assert.equal((await handler(post(rpc('tools/list'), token))).status, 200);
    const { jwks, metadata } = as.counts;
    for (let i = 0; i < 20; i++) assert.equal((await handler(post(rpc('tools/list'), token))).status, 200);
    const other = await as.mint({ scope: 'tools:list' });
    assert.equal((await handler(post(rpc('tools/list'), other))).status, 200);
    assert.deepEqual([as.counts.jwks, as.counts.metadata], [jwks, metadata]);
  });

  test('RFC 7517: an unknown kid refetches the JWKS (key rotation), at most once per cooldown', async () => {
    const { handler } = makeGuard();
    assert.equal(
      (await handler(post(rpc('tools/list'), await as.mint({ scope: 'tools:list' })))).status,
      200,
    );
    const fetched = as.counts.jwks;
    await as.rotateKey();
    clock += 31_000;
    const rotated = await as.mint({ scope: 'tools:list' });
    assert.equal((await handler(post(rpc('tools/list'), rotated))).status, 200);
    assert.equal(as.counts.jwks, fetched + 1);
    // Garbage kids within the cooldown do not reach the AS.
    const forged = await as.mint({ scope: 'tools:list', foreignKey: true });
    assert.equal((await handler(post(rpc('tools/list'), forged))).status, 401);
    assert.equal(as.counts.jwks, fetched + 1);
  });

  test('RFC 7662: an opaque token is introspected, audience-checked and cached briefly', async () => {
    const { handler } = makeGuard({ introspection: as.introspectionClient });
    const exp = Math.floor(clock / 1000) + 300;
    const good = as.opaque({ sub: 'bob', client_id: 'c', scope: 'tools:list', aud: RESOURCE, exp });
    const counted = as.counts.introspection;
    assert.equal((await handler(post(rpc('tools/list'), good))).status, 200);
    assert.equal((await handler(post(rpc('tools/list'), good))).status, 200);
    assert.equal(as.counts.introspection, counted + 1);
    const elsewhere = as.opaque({
      sub: 'bob',
      client_id: 'c',
      scope: 'tools:list',
      aud: 'https://x.example/',
      exp,
    });
    assert.equal((await handler(post(rpc('tools/list'), elsewhere))).status, 401);
    assert.equal((await handler(post(rpc('tools/list'), 'opaque_unknown'))).status, 401);
  });
});

describe('scope policy', () => {
  test('MCP authorization: a token without tools:execute:database gets 403 insufficient_scope naming it', async () => {
    const { handler } = makeGuard();
    const token = await as.mint({ scope: 'tools:list tools:execute:filesystem' });
    const res = await handler(post(rpc('tools/call', { name: 'query', arguments: {} }), token));
    assert.equal(res.status, 403);
    assert.equal(challenge(res).error, 'insufficient_scope');
    assert.equal(challenge(res).scope, 'tools:execute:database');
    assert.equal(
      challenge(res).resource_metadata,
      'http://127.0.0.1:9999/.well-known/oauth-protected-resource/mcp',
    );
  });

  test('scope hierarchy: tools:execute covers tools:execute:database', async () => {
    const { handler } = makeGuard();
    const token = await as.mint({ scope: 'tools:execute' });
    assert.equal((await handler(post(rpc('tools/call', { name: 'query' }), token))).status, 200);
  });

  test('a batch needs every scope its requests need, named in one challenge', async () => {
    const { handler } = makeGuard();
    const token = await as.mint({ scope: 'tools:list' });
    const batch = [
      rpc('tools/call', { name: 'query' }, 1),
      rpc('tools/call', { name: 'read_file' }, 2),
      rpc('tools/list', {}, 3),
    ];
    const res = await handler(post(batch, token));
    assert.equal(res.status, 403);
    assert.deepEqual(challenge(res).scope?.split(' ').sort(), [
      'tools:execute:database',
      'tools:execute:filesystem',
      'tools:list',
    ]);
  });

  test('resources: templates declare narrower read scopes; listing accepts a narrower scope', async () => {
    const { handler } = makeGuard();
    const token = await as.mint({ scope: 'resources:read:database' });
    assert.equal(
      (await handler(post(rpc('resources/read', { uri: 'demo://tables/notes' }), token))).status,
      200,
    );
    assert.equal((await handler(post(rpc('resources/list'), token))).status, 200);
    const other = await handler(post(rpc('resources/read', { uri: 'file:///etc/passwd' }), token));
    assert.equal(other.status, 403);
    assert.equal(challenge(other).scope, 'resources:read');
    const sub = await handler(post(rpc('resources/subscribe', { uri: 'demo://tables/notes' }), token));
    assert.equal(challenge(sub).scope, 'resources:subscribe resources:read:database');
  });

  test('2026-07-28: the Mcp-Method and Mcp-Name headers must agree with the body (400 otherwise)', async () => {
    const { handler } = makeGuard();
    const token = await as.mint({ scope: 'tools:execute' });
    const body = rpc('tools/call', { name: 'query' });
    const ok = await handler(post(body, token, { 'mcp-method': 'tools/call', 'mcp-name': 'query' }));
    assert.equal(ok.status, 200);
    const encoded = `=?base64?${Buffer.from('query').toString('base64')}?=`;
    assert.equal(
      (await handler(post(body, token, { 'mcp-method': 'tools/call', 'mcp-name': encoded }))).status,
      200,
    );
    const lying = await handler(post(body, token, { 'mcp-method': 'tools/list' }));
    assert.equal(lying.status, 400);
    assert.equal((await lying.json()).error.code, -32020);
    assert.equal(
      (await handler(post(body, token, { 'mcp-method': 'tools/call', 'mcp-name': 'read_file' }))).status,
      400,
    );
  });

  test('protocol plumbing (initialize, ping, notifications) needs no scope', async () => {
    const { handler } = makeGuard();
    const token = await as.mint({ scope: '' });
    assert.equal(
      (await handler(post(rpc('initialize', { protocolVersion: '2025-11-25' }), token))).status,
      200,
    );
    assert.equal(
      (await handler(post({ jsonrpc: '2.0', method: 'notifications/initialized' }, token))).status,
      200,
    );
  });

  test('a body that is not JSON is refused with a JSON-RPC parse error', async () => {
    const { handler } = makeGuard();
    const res = await handler(post('{nope', await as.mint()));
    assert.equal(res.status, 400);
    assert.equal((await res.json()).error.code, -32700);
  });
});

describe('revocation', () => {
  test('in the same process a revoked grant is refused at once, even while its token is cached', async () => {
    const { handler } = makeGuard({ revocations: as.revocations });
    const token = await as.mint({ scope: 'tools:list', gid: 'grant-inproc' });
    assert.equal((await handler(post(rpc('tools/list'), token))).status, 200);
    as.revokeGrant('grant-inproc');
    const res = await handler(post(rpc('tools/list'), token));
    assert.equal(res.status, 401);
    assert.match(challenge(res).error_description ?? '', /revoked/);
  });

  test('across processes the feed delivers a revoked grant within a second', async () => {
    const { guard, handler } = makeGuard({ revocationFeed: true });
    try {
      const token = await as.mint({ scope: 'tools:list', gid: 'grant-remote' });
      const jti = 'token-remote';
      const single = await as.mint({ scope: 'tools:list', jti });
      await guard.ready();
      assert.equal((await handler(post(rpc('tools/list'), token))).status, 200);
      const started = performance.now();
      as.revokeGrant('grant-remote');
      as.revokeToken(jti);
      // The grant and the token may arrive in separate answers of the feed: both within a second.
      const status = async (t: string) => (await handler(post(rpc('tools/list'), t))).status;
      while ((await status(token)) === 200 || (await status(single)) === 200) {
        assert.ok(performance.now() - started < 1000, 'revocation not seen within a second');
        await new Promise((r) => setImmediate(r));
      }
      assert.ok(performance.now() - started < 1000);
    } finally {
      guard.close();
    }
  });

  test('a guard that starts later receives the full current list first', async () => {
    as.revokeGrant('grant-before-start');
    const { guard, handler } = makeGuard({ revocationFeed: true });
    try {
      const token = await as.mint({ scope: 'tools:list', gid: 'grant-before-start' });
      assert.equal((await handler(post(rpc('tools/list'), token))).status, 401);
    } finally {
      guard.close();
    }
  });
});

describe('narrowing (a grant the user narrowed after its tokens were issued)', () => {
  test('RFC 6750 §3.1: in the same process the next request needing a removed scope gets 403 insufficient_scope, even while the token is cached; the token still verifies and the handler sees the narrowed scopes', async () => {
    const { handler, seen } = makeGuard({ revocations: as.revocations });
    const token = await as.mint({ scope: 'tools:list tools:execute', gid: 'grant-narrow-inproc' });
    const call = (name: string) => handler(post(rpc('tools/call', { name, arguments: {} }), token));
    assert.equal((await call('query')).status, 200);
    as.narrowGrant('grant-narrow-inproc', 'tools:list tools:execute:filesystem');
    const refused = await call('query');
    assert.equal(refused.status, 403);
    assert.equal(challenge(refused).error, 'insufficient_scope');
    assert.equal(challenge(refused).scope, 'tools:execute:database');
    assert.equal((await call('read_file')).status, 200, 'what is left still works');
    assert.deepEqual(seen()?.scopes, ['tools:list', 'tools:execute:filesystem']);
    assert.equal((await handler(post(rpc('tools/list'), token))).status, 200);
  });

  test('across processes the feed delivers a narrowing as fast as a revocation, and a guard that starts later gets it in the full list', {
    timeout: 10_000,
  }, async () => {
    const { guard, handler, seen } = makeGuard({ revocationFeed: true });
    try {
      const token = await as.mint({ scope: 'tools:list tools:execute', gid: 'grant-narrow-remote' });
      const query = () => handler(post(rpc('tools/call', { name: 'query', arguments: {} }), token));
      await guard.ready();
      assert.equal((await query()).status, 200);
      as.narrowGrant('grant-narrow-remote', 'tools:list');
      let res = await query();
      while (res.status === 200) {
        await new Promise((r) => setImmediate(r));
        res = await query();
      }
      assert.equal(res.status, 403);
      assert.equal(challenge(res).error, 'insufficient_scope');
      assert.equal((await handler(post(rpc('tools/list'), token))).status, 200);
      assert.deepEqual(seen()?.scopes, ['tools:list']);
    } finally {
      guard.close();
    }
    const later = makeGuard({ revocationFeed: true });
    try {
      const token = await as.mint({ scope: 'tools:list tools:execute', gid: 'grant-narrow-remote' });
      const res = await later.handler(post(rpc('tools/call', { name: 'query', arguments: {} }), token));
      assert.equal(res.status, 403);
    } finally {
      later.guard.close();
    }
  });

  test('narrowings compose: a second narrowing of the same grant only narrows further', async () => {
    const { handler, seen } = makeGuard({ revocations: as.revocations });
    const token = await as.mint({
      scope: 'tools:list tools:execute prompts:list',
      gid: 'grant-narrow-twice',
    });
    as.narrowGrant('grant-narrow-twice', 'tools:list tools:execute');
    as.narrowGrant('grant-narrow-twice', 'tools:execute:filesystem prompts:list');
    assert.equal(
      (await handler(post(rpc('tools/call', { name: 'read_file', arguments: {} }), token))).status,
      200,
    );
    assert.deepEqual(seen()?.scopes, ['tools:execute:filesystem']);
  });
});

describe('origin', () => {
  test('DNS rebinding: a foreign Origin is refused with 403; the resource origin passes', async () => {
    const { handler } = makeGuard();
    const token = await as.mint({ scope: 'tools:list' });
    const evil = await handler(post(rpc('tools/list'), token, { origin: 'http://evil.example.com' }));
    assert.equal(evil.status, 403);
    const own = await handler(post(rpc('tools/list'), token, { origin: 'http://127.0.0.1:9999' }));
    assert.equal(own.status, 200);
  });
});

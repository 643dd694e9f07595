import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { Agent, authorize, basicAuth } from './helpers/agent.ts';
import { type InProcessServer, startInProcess } from './helpers/in-process.ts';

/**
 * Hostile and broken input: every answer is an RFC-shaped error with the right status, nothing
 * crashes, nothing half-written stays in the store, and no internals leak.
 */
let s: InProcessServer;
const CLIENT = 'bad-input-public';
const CONFIDENTIAL = 'bad-input-confidential';
const SECRET = 'gh_cs_bad-input-secret';
const CALLBACK = 'http://127.0.0.1/callback';

before(async () => {
  s = await startInProcess();
  await s.addUser('grace', 'grace-password-123');
  await s.addClient({ client_id: CLIENT, redirect_uris: [CALLBACK] });
  await s.addClient({
    client_id: CONFIDENTIAL,
    redirect_uris: [CALLBACK],
    token_endpoint_auth_method: 'client_secret_basic',
    secret_hash: s.as.context.secrets.hash(SECRET),
  });
});
after(() => s?.close());

async function post(path: string, body: string, headers: Record<string, string>) {
  const response = await fetch(`${s.issuer}${path}`, { method: 'POST', headers, body });
  const text = await response.text();
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(text);
  } catch {}
  return { status: response.status, headers: response.headers, text, json };
}

const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
const JSON_TYPE = { 'content-type': 'application/json' };

/** RFC 6749 §5.2: a JSON body holding `error` (and maybe `error_description`), no-store, nothing else. */
function assertOAuthError(r: Awaited<ReturnType<typeof post>>, status: number, error: string) {
  assert.equal(r.status, status, r.text);
  assert.equal(r.json.error, error, r.text);
  assert.deepEqual(
    Object.keys(r.json).filter((k) => k !== 'error' && k !== 'error_description'),
    [],
    'no other members',
  );
  assert.match(r.headers.get('content-type') ?? '', /^application\/json/);
  assert.equal(r.headers.get('cache-control'), 'no-store');
  assert.doesNotMatch(r.text, /at .*\.ts:\d+|node:internal|SQLITE|Error:/, 'no stack traces or internals');
}

/** The store holds no live grant, no refresh token and no DCR client: nothing was half-written. */
async function assertNothingWritten() {
  assert.deepEqual(await s.store.listGrants({}), []);
  assert.equal(await s.store.countClients('dcr'), 0);
}

describe('bad input at /oauth/token', () => {
  test('RFC 6749 §3.2: a body that is not form-urlencoded is invalid_request', async () => {
    assertOAuthError(
      await post('/oauth/token', JSON.stringify({ grant_type: 'authorization_code' }), JSON_TYPE),
      400,
      'invalid_request',
    );
    assertOAuthError(await post('/oauth/token', 'grant_type=authorization_code', {}), 400, 'invalid_request');
    assertOAuthError(
      await post('/oauth/token', 'grant_type=authorization_code', { 'content-type': 'text/plain' }),
      400,
      'invalid_request',
    );
  });

  test('RFC 9110 §15.5.14: an oversized body is refused with 413 invalid_request before it is parsed', async () => {
    const big = `grant_type=authorization_code&code=${'a'.repeat(64 * 1024)}`;
    assertOAuthError(await post('/oauth/token', big, FORM), 413, 'invalid_request');
  });

  test('RFC 9110 §15.5.14: an oversized chunked body (no declared length) gets 413 too', async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const url = new URL(`${s.issuer}/oauth/token`);
      const req = httpRequest(
        { host: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers: FORM },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('error', reject);
      for (let i = 0; i < 40; i++) req.write('a'.repeat(1024));
      req.end();
    });
    assert.equal(status, 413);
  });

  test('RFC 6749 §3.2: repeated parameters are invalid_request', async () => {
    assertOAuthError(
      await post('/oauth/token', 'grant_type=authorization_code&grant_type=refresh_token', FORM),
      400,
      'invalid_request',
    );
    assertOAuthError(
      await post('/oauth/token', `grant_type=authorization_code&code=a&code=b&client_id=${CLIENT}`, FORM),
      400,
      'invalid_request',
    );
  });

  test('RFC 6749 §5.2: an unknown grant type is unsupported_grant_type; a missing one is invalid_request', async () => {
    assertOAuthError(
      await post('/oauth/token', `grant_type=password&username=a&password=b&client_id=${CLIENT}`, FORM),
      400,
      'unsupported_grant_type',
    );
    assertOAuthError(
      await post('/oauth/token', 'grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer', FORM),
      400,
      'unsupported_grant_type',
    );
    assertOAuthError(await post('/oauth/token', `client_id=${CLIENT}`, FORM), 400, 'invalid_request');
  });

  test('RFC 6749 §5.2: an unknown client via Basic is 401 invalid_client with WWW-Authenticate: Basic', async () => {
    const r = await post('/oauth/token', 'grant_type=authorization_code&code=x&code_verifier=y', {
      ...FORM,
      ...basicAuth('no-such-client', 'whatever'),
    });
    assertOAuthError(r, 401, 'invalid_client');
    assert.match(r.headers.get('www-authenticate') ?? '', /^Basic /);
  });

  test('RFC 6749 §5.2: a wrong secret via Basic is 401 invalid_client with WWW-Authenticate: Basic', async () => {
    const r = await post('/oauth/token', 'grant_type=authorization_code&code=x&code_verifier=y', {
      ...FORM,
      ...basicAuth(CONFIDENTIAL, 'wrong'),
    });
    assertOAuthError(r, 401, 'invalid_client');
    assert.match(r.headers.get('www-authenticate') ?? '', /^Basic realm=/);
  });

  test('RFC 6749 §2.3: malformed Basic credentials or two authentication methods at once are invalid_request', async () => {
    assertOAuthError(
      await post('/oauth/token', 'grant_type=authorization_code', { ...FORM, authorization: 'Basic !!!' }),
      400,
      'invalid_request',
    );
    assertOAuthError(
      await post('/oauth/token', `grant_type=authorization_code&client_secret=${SECRET}`, {
        ...FORM,
        ...basicAuth(CONFIDENTIAL, SECRET),
      }),
      400,
      'invalid_request',
    );
  });

  test('RFC 6749 §5.2: an unknown code is invalid_grant; nothing is written for any of these requests', async () => {
    assertOAuthError(
      await post(
        '/oauth/token',
        `grant_type=authorization_code&code=nope&code_verifier=${'a'.repeat(43)}&client_id=${CLIENT}`,
        FORM,
      ),
      400,
      'invalid_grant',
    );
    await assertNothingWritten();
  });

  test('a failed redemption (wrong verifier) leaves no live grant behind', async () => {
    const flow = await authorize({
      issuer: s.issuer,
      clientId: CLIENT,
      redirectUri: CALLBACK,
      username: 'grace',
      password: 'grace-password-123',
      agent: new Agent(),
    });
    const r = await post(
      '/oauth/token',
      new URLSearchParams({
        grant_type: 'authorization_code',
        code: flow.params.code as string,
        code_verifier: 'b'.repeat(43),
        redirect_uri: CALLBACK,
        client_id: CLIENT,
      }).toString(),
      FORM,
    );
    assertOAuthError(r, 400, 'invalid_grant');
    await assertNothingWritten();
  });
});

describe('bad input at /oauth/register', () => {
  test('RFC 7591 §3.2.2: malformed JSON, a wrong content type or an oversized body (413) is invalid_request', async () => {
    assertOAuthError(await post('/oauth/register', '{"redirect_uris": [', JSON_TYPE), 400, 'invalid_request');
    assertOAuthError(await post('/oauth/register', 'redirect_uris=x', FORM), 400, 'invalid_request');
    const huge = JSON.stringify({
      redirect_uris: ['https://a.example/cb'],
      client_name: 'x'.repeat(100_000),
    });
    assertOAuthError(await post('/oauth/register', huge, JSON_TYPE), 413, 'invalid_request');
    await assertNothingWritten();
  });

  test('RFC 7591 §3.2.2: a JSON body that is not an object is invalid_client_metadata', async () => {
    for (const body of ['[]', '"text"', '42', 'null']) {
      assertOAuthError(await post('/oauth/register', body, JSON_TYPE), 400, 'invalid_client_metadata');
    }
    assertOAuthError(
      await post('/oauth/register', JSON.stringify({ redirect_uris: 'https://a.example/cb' }), JSON_TYPE),
      400,
      'invalid_redirect_uri',
    );
    await assertNothingWritten();
  });
});

describe('the server after all of this', () => {
  test('still answers normally (nothing crashed)', async () => {
    const response = await fetch(`${s.issuer}/.well-known/oauth-authorization-server`);
    assert.equal(response.status, 200);
    const agent = new Agent();
    const flow = await authorize({
      issuer: s.issuer,
      clientId: CLIENT,
      redirectUri: CALLBACK,
      username: 'grace',
      password: 'grace-password-123',
      agent,
    });
    assert.ok(flow.params.code);
  });

  test('RFC 9110 §15.5.6: unknown paths get 404, other methods 405 with Allow, never a crash', async () => {
    assert.equal((await fetch(`${s.issuer}/nowhere`)).status, 404);
    const del = await fetch(`${s.issuer}/.well-known/oauth-authorization-server`, { method: 'DELETE' });
    assert.equal(del.status, 405);
    assert.equal(del.headers.get('allow'), 'GET, HEAD, OPTIONS');
    const getToken = await fetch(`${s.issuer}/oauth/token`);
    assert.equal(getToken.status, 405);
    assert.equal(getToken.headers.get('allow'), 'POST, OPTIONS');
    await getToken.body?.cancel();
    await del.body?.cancel();
  });
});

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type RunningGatehouse, serve } from './helpers/gatehouse-cli.ts';
import { tempDir } from './helpers/temp.ts';

/** RFC 8414 metadata and the JWKS, from `gatehouse serve` as a child process. */
let server: RunningGatehouse;
let removeData: () => Promise<void>;

before(async () => {
  const data = await tempDir();
  removeData = data.remove;
  server = await serve(data.dir);
});
after(async () => {
  await server?.stop();
  await removeData?.();
});

const getJson = async (url: string) => {
  const response = await fetch(url);
  return { response, body: (await response.json()) as Record<string, unknown> };
};

describe('authorization server metadata', () => {
  test('RFC 8414 §3: metadata is served at /.well-known/oauth-authorization-server with the exact issuer', async () => {
    const { response, body } = await getJson(`${server.issuer}/.well-known/oauth-authorization-server`);
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /^application\/json/);
    // RFC 8414 §3.3: identical to the issuer the metadata was retrieved for, no trailing slash.
    assert.equal(body.issuer, server.issuer);
    assert.equal(body.authorization_endpoint, `${server.issuer}/oauth/authorize`);
    assert.equal(body.token_endpoint, `${server.issuer}/oauth/token`);
    assert.equal(body.registration_endpoint, `${server.issuer}/oauth/register`);
    assert.equal(body.jwks_uri, `${server.issuer}/.well-known/jwks.json`);
    assert.deepEqual(body.response_types_supported, ['code']);
    assert.deepEqual(body.code_challenge_methods_supported, ['S256']);
    assert.equal(body.authorization_response_iss_parameter_supported, true);
    assert.equal(body.client_id_metadata_document_supported, true);
    assert.ok((body.grant_types_supported as string[]).includes('authorization_code'));
    for (const method of ['none', 'client_secret_basic', 'client_secret_post']) {
      assert.ok((body.token_endpoint_auth_methods_supported as string[]).includes(method), method);
    }
  });

  test('OpenID Connect Discovery 1.0 §3: no OpenID configuration is served, as its required ID-token fields do not apply', async () => {
    const response = await fetch(`${server.issuer}/.well-known/openid-configuration`);
    await response.body?.cancel();
    assert.equal(response.status, 404);
  });

  test('RFC 7517 §5: the JWKS publishes the ES256 public signing key and nothing private', async () => {
    const { body: meta } = await getJson(`${server.issuer}/.well-known/oauth-authorization-server`);
    const { response, body } = await getJson(meta.jwks_uri as string);
    assert.equal(response.status, 200);
    const keys = body.keys as Record<string, unknown>[];
    assert.ok(keys.length >= 1);
    for (const key of keys) {
      assert.equal(key.kty, 'EC');
      assert.equal(key.crv, 'P-256');
      assert.equal(key.alg, 'ES256');
      assert.equal(key.use, 'sig');
      assert.equal(typeof key.kid, 'string');
      assert.equal(key.d, undefined, 'the private key must never be published');
    }
  });

  test('RFC 8414 §2: every endpoint the metadata advertises exists on this server', async () => {
    const { body } = await getJson(`${server.issuer}/.well-known/oauth-authorization-server`);
    for (const key of Object.keys(body).filter((k) => k.endsWith('_endpoint') || k === 'jwks_uri')) {
      const url = body[key] as string;
      assert.ok(url.startsWith(`${server.issuer}/`), `${key} is on the issuer`);
      const method = key === 'authorization_endpoint' || key === 'jwks_uri' ? 'GET' : 'POST';
      const response = await fetch(url, { method, redirect: 'manual' });
      await response.body?.cancel();
      assert.notEqual(response.status, 404, `${key} ${url}`);
      assert.ok(response.status < 500, `${key} ${url}: ${response.status}`);
    }
  });
});

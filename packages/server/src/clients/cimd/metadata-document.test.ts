import assert from 'node:assert/strict';
import { test } from 'node:test';
import { OAuthError } from '@gatehouse/core';
import { parseClientMetadataDocument } from './metadata-document.ts';

const CLIENT_ID = 'https://app.example.com/oauth/client.json';

function doc(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    client_id: CLIENT_ID,
    client_name: 'Example MCP Client',
    redirect_uris: ['http://127.0.0.1:3000/callback', 'https://app.example.com/callback'],
    ...overrides,
  };
}

function refusal(json: unknown): OAuthError {
  try {
    parseClientMetadataDocument(json, CLIENT_ID);
  } catch (err) {
    assert.ok(err instanceof OAuthError);
    assert.equal(err.code, 'invalid_client');
    return err;
  }
  assert.fail('the document was accepted');
}

test('CIMD §4.1: a minimal document gets RFC 7591 defaults and loses unknown properties', () => {
  const parsed = parseClientMetadataDocument(doc({ software_statement_extra: 'x' }), CLIENT_ID);
  assert.deepEqual(parsed, {
    client_id: CLIENT_ID,
    client_name: 'Example MCP Client',
    redirect_uris: ['http://127.0.0.1:3000/callback', 'https://app.example.com/callback'],
    token_endpoint_auth_method: 'none',
    grant_types: ['authorization_code'],
    response_types: ['code'],
  });
});

test('CIMD §4.1: the MCP example document with every optional field is accepted', () => {
  const parsed = parseClientMetadataDocument(
    doc({
      client_uri: 'https://app.example.com',
      logo_uri: 'https://app.example.com/logo.png',
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      scope: 'tools:list tools:execute offline_access',
      application_type: 'native',
      redirect_uris: [
        'http://localhost:3000/callback',
        'http://[::1]:3000/cb',
        'com.example.app:/oauth2redirect',
      ],
    }),
    CLIENT_ID,
  );
  assert.equal(parsed.application_type, 'native');
  assert.equal(parsed.redirect_uris.length, 3);
});

test('CIMD §4.1: a document whose client_id differs from its URL is refused', () => {
  refusal(doc({ client_id: 'https://app.example.com/oauth/other.json' }));
  refusal(doc({ client_id: 'https://app.example.com/oauth/client.json/' }));
  refusal(doc({ client_id: undefined }));
});

test('CIMD §4.1: shared-secret authentication methods are refused', () => {
  for (const method of ['client_secret_basic', 'client_secret_post', 'client_secret_jwt']) {
    assert.match(refusal(doc({ token_endpoint_auth_method: method })).message, /shared secret/);
  }
  refusal(doc({ token_endpoint_auth_method: 'tls_client_auth' }));
});

test('CIMD §4.1: client_secret and client_secret_expires_at must not appear', () => {
  refusal(doc({ client_secret: 'abc' }));
  refusal(doc({ client_secret_expires_at: 0 }));
});

test('CIMD §6.2: private_key_jwt needs exactly one of jwks and jwks_uri, with public keys only', () => {
  const publicKey = {
    kty: 'EC',
    crv: 'P-256',
    x: 'f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU',
    y: 'x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0',
  };
  const ok = parseClientMetadataDocument(
    doc({ token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [publicKey] } }),
    CLIENT_ID,
  );
  assert.equal(ok.token_endpoint_auth_method, 'private_key_jwt');
  parseClientMetadataDocument(
    doc({ token_endpoint_auth_method: 'private_key_jwt', jwks_uri: 'https://app.example.com/jwks.json' }),
    CLIENT_ID,
  );
  refusal(doc({ token_endpoint_auth_method: 'private_key_jwt' }));
  refusal(
    doc({
      token_endpoint_auth_method: 'private_key_jwt',
      jwks: { keys: [publicKey] },
      jwks_uri: 'https://app.example.com/jwks.json',
    }),
  );
  refusal(
    doc({ token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [{ ...publicKey, d: 'secret' }] } }),
  );
  refusal(
    doc({ token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [{ kty: 'oct', k: 'c2VjcmV0' }] } }),
  );
  refusal(
    doc({ token_endpoint_auth_method: 'private_key_jwt', jwks_uri: 'http://app.example.com/jwks.json' }),
  );
});

test('CIMD §4.1: a public client cannot ask for client_credentials', () => {
  refusal(doc({ grant_types: ['client_credentials'] }));
});

const badRedirects = [
  ['https://app.example.com/cb#frag', 'a fragment'],
  ['http://app.example.com/cb', 'http on a non-loopback host'],
  ['http://10.0.0.1/cb', 'http on a private address'],
  ['javascript:alert(1)', 'javascript:'],
  ['data:text/html,hi', 'data:'],
  ['file:///etc/passwd', 'file:'],
  ['https://user:pw@app.example.com/cb', 'userinfo'],
  ['/relative/cb', 'a relative reference'],
] as const;

for (const [uri, label] of badRedirects) {
  test(`RFC 6749 §3.1.2 / RFC 8252 §7: a redirect URI with ${label} is refused`, () => {
    assert.match(refusal(doc({ redirect_uris: [uri] })).message, /redirect_uris\[0\]/);
  });
}

test('CIMD §4.1: client_name, redirect_uris are required and well-formed', () => {
  refusal(doc({ client_name: undefined }));
  refusal(doc({ client_name: '   ' }));
  refusal(doc({ client_name: 'Good\u202eevil' }));
  refusal(doc({ client_name: 'Trusted App\nby Example Corp' }));
  refusal(doc({ redirect_uris: [] }));
  refusal(doc({ redirect_uris: 'https://app.example.com/cb' }));
  refusal(doc({ logo_uri: 'javascript:alert(1)' }));
  refusal(doc({ client_uri: 'http://app.example.com' }));
  refusal(doc({ scope: 'bad"scope' }));
  refusal(doc({ application_type: 'desktop' }));
  refusal([doc()]);
  refusal(null);
});

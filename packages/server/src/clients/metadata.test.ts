import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CIMD_PROFILE, type ClientMetadataResult, clientMetadataValidator, DCR_PROFILE } from './metadata.ts';

const dcr = clientMetadataValidator(DCR_PROFILE);
const cimd = clientMetadataValidator(CIMD_PROFILE);
const base = { client_name: 'Example', redirect_uris: ['https://app.example/cb'] };

function refused(result: ClientMetadataResult): { field: string; sentence: string } {
  assert.equal(result.ok, false, 'the metadata was accepted');
  return (result as { problem: { field: string; sentence: string } }).problem;
}

test('RFC 7591 §2: client_uri and logo_uri must be https on a public host, for DCR and CIMD alike', () => {
  for (const uri of [
    'javascript:alert(1)',
    'data:image/png;base64,AAAA',
    'file:///etc/passwd',
    'http://app.example/',
    'https://127.0.0.1/logo.png',
    'https://10.0.0.1/logo.png',
    'https://[::1]/logo.png',
    'https://localhost/logo.png',
    'https://intranet/logo.png',
    'https://user:pw@app.example/',
  ]) {
    for (const field of ['client_uri', 'logo_uri']) {
      for (const validate of [dcr, cimd]) {
        assert.equal(refused(validate({ ...base, [field]: uri })).field, field, `${field}=${uri}`);
      }
    }
  }
  assert.ok(dcr({ ...base, client_uri: 'https://app.example/', logo_uri: 'https://cdn.example/l.png' }).ok);
});

test('RFC 7591 §2: client_name may not carry control, bidi-override or only invisible characters (consent spoofing)', () => {
  for (const name of [
    'Good\u0000App',
    'App\u202egnp.exe',
    'App\u2066x',
    'A\u200fB',
    '\u200b\u200c\u200d',
    '\ufeff',
    ' ',
  ]) {
    for (const validate of [dcr, cimd]) {
      assert.equal(
        refused(validate({ ...base, client_name: name })).field,
        'client_name',
        JSON.stringify(name),
      );
    }
  }
  assert.ok(dcr({ ...base, client_name: 'Ünïcødé app 🚀' }).ok);
});

test('RFC 7591 §2: grant_types, response_types and token_endpoint_auth_method come only from what the server supports', () => {
  for (const bad of [
    { grant_types: ['constructor'] },
    { grant_types: ['__proto__'] },
    { grant_types: ['toString', 'authorization_code'] },
    { grant_types: ['password'] },
    { grant_types: ['implicit'] },
    { response_types: ['token'] },
    { response_types: ['constructor'] },
    { token_endpoint_auth_method: 'constructor' },
  ]) {
    for (const validate of [dcr, cimd]) refused(validate({ ...base, ...bad }));
  }
  const cc = dcr({ ...base, grant_types: ['client_credentials', 'authorization_code', 'refresh_token'] });
  assert.ok(cc.ok);
});

test('RFC 7591 §2: redirect_uris are needed only for redirect-based grants, so a client_credentials client may omit them', () => {
  const result = dcr({
    grant_types: ['client_credentials'],
    token_endpoint_auth_method: 'client_secret_basic',
  });
  assert.ok(result.ok);
  assert.deepEqual(result.metadata.redirect_uris, []);
  const missing = refused(dcr({ grant_types: ['authorization_code'] }));
  assert.equal(missing.field, 'redirect_uris');
  assert.equal(missing.sentence, 'redirect_uris is required for the authorization_code grant.');
});

test('RFC 7591 §3.2.2: every refusal is a sentence that names the field, never raw validator text', () => {
  const cases: [unknown, string, RegExp][] = [
    [
      { ...base, grant_types: ['constructor'] },
      'grant_types[0]',
      /^grant_types\[0\] must be one of "authorization_code", "refresh_token", "client_credentials"\.$/,
    ],
    [
      { ...base, redirect_uris: 'https://app.example/cb' },
      'redirect_uris',
      /^redirect_uris must be an array\.$/,
    ],
    [
      { ...base, redirect_uris: ['javascript:alert(1)'] },
      'redirect_uris[0]',
      /^redirect_uris\[0\] is refused: the 'javascript:' scheme is not allowed\.$/,
    ],
    [
      { ...base, token_endpoint_auth_method: 'none', grant_types: ['client_credentials'] },
      'grant_types',
      /client_credentials only for a client that authenticates\.$/,
    ],
    [
      { ...base, client_name: 'x'.repeat(201) },
      'client_name',
      /^client_name must be at most 200 characters long\.$/,
    ],
    [[], 'body', /^The metadata must be a JSON object\.$/],
  ];
  for (const [input, field, sentence] of cases) {
    const problem = refused(dcr(input));
    assert.equal(problem.field, field);
    assert.match(problem.sentence, sentence);
    assert.doesNotMatch(problem.sentence, /Invalid input|expected|received/);
  }
});

test('CIMD §4.1: a metadata document must name the client; a registration may leave the name out', () => {
  assert.equal(refused(cimd({ redirect_uris: ['https://app.example/cb'] })).field, 'client_name');
  assert.ok(dcr({ redirect_uris: ['https://app.example/cb'] }).ok);
});

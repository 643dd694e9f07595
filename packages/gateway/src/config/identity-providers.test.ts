// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the tests write ${env:NAME} as users do
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ConfigError } from './errors.ts';
import { parseConfig } from './load.ts';

const parse = (raw: unknown, env: NodeJS.ProcessEnv = {}) =>
  parseConfig(raw, { file: 'gatehouse.json', env });
const problems = (raw: unknown, env: NodeJS.ProcessEnv = {}): string[] => {
  try {
    parse(raw, env);
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return err.issues.map((issue) => `${issue.path}: ${issue.message}`);
  }
  assert.fail('expected a ConfigError');
};

const keycloak = {
  name: 'Keycloak',
  issuer: 'https://sso.example.com/realms/acme',
  clientId: 'gatehouse',
  clientSecret: '${env:KEYCLOAK_SECRET}',
};

describe('configuration file: identity providers', () => {
  test('a provider by issuer, its secret from the environment; passwords can be switched off', () => {
    const config = parse(
      { identityProviders: { keycloak }, passwordSignIn: false },
      { KEYCLOAK_SECRET: 'kc-secret-value' },
    );
    assert.equal(config.identityProviders?.keycloak?.clientSecret, 'kc-secret-value');
    assert.equal(config.passwordSignIn, false);
  });

  test('a client secret written into the file is refused, without quoting it', () => {
    const found = problems({
      identityProviders: { keycloak: { ...keycloak, clientSecret: 'inline-secret-123' } },
    });
    assert.deepEqual(found, [
      'identityProviders.keycloak.clientSecret: expected an ${env:NAME} reference, not the secret itself',
    ]);
    assert.equal(found.join().includes('inline-secret-123'), false);
  });

  test('an OIDC provider needs an issuer, a plain OAuth 2.0 one its endpoints; http only on loopback', () => {
    assert.deepEqual(problems({ identityProviders: { kc: { name: 'K', clientId: 'x' } } }), [
      'identityProviders.kc.issuer: is required for a provider of type oidc',
    ]);
    assert.deepEqual(
      problems({
        identityProviders: {
          github: {
            name: 'GitHub',
            type: 'oauth2',
            clientId: 'x',
            tokenEndpoint: 'https://github.com/login/oauth/access_token',
          },
        },
      }).sort(),
      [
        'identityProviders.github.authorizationEndpoint: is required for a provider of type oauth2',
        'identityProviders.github.userinfoEndpoint: is required for a provider of type oauth2',
      ],
    );
    assert.deepEqual(
      problems(
        { identityProviders: { kc: { ...keycloak, issuer: 'http://sso.example.com' } } },
        { KEYCLOAK_SECRET: 's' },
      ),
      ['identityProviders.kc.issuer: expected an https URL (http only on 127.0.0.1, [::1] or localhost)'],
    );
  });

  test('OpenID Connect Core §5.7: a mutable claim (email, preferred_username, name) as the subject is refused, saying why and what to use', () => {
    for (const claim of ['email', 'preferred_username', 'name']) {
      const found = problems(
        { identityProviders: { kc: { ...keycloak, claims: { subject: claim } } } },
        { KEYCLOAK_SECRET: 's' },
      );
      assert.equal(found.length, 1, claim);
      assert.match(found[0] as string, /^identityProviders\.kc\.claims\.subject: /);
      assert.match(found[0] as string, new RegExp(`"${claim}" cannot be the subject`));
      assert.match(found[0] as string, /Use "sub" for OpenID Connect/);
    }
    const entra = parse(
      { identityProviders: { entra: { ...keycloak, claims: { subject: 'oid' } } } },
      { KEYCLOAK_SECRET: 's' },
    );
    assert.equal(entra.identityProviders?.entra?.claims?.subject, 'oid');
  });

  test('dangerouslyTrustUnverifiedEmail: a boolean, for a GitHub-style provider with a domain rule', () => {
    const github = {
      name: 'GitHub',
      type: 'oauth2',
      authorizationEndpoint: 'https://github.com/login/oauth/authorize',
      tokenEndpoint: 'https://github.com/login/oauth/access_token',
      userinfoEndpoint: 'https://api.github.com/user',
      clientId: 'x',
      allowedEmailDomains: ['acme.example'],
    };
    const config = parse({
      identityProviders: { github: { ...github, dangerouslyTrustUnverifiedEmail: true } },
    });
    assert.equal(config.identityProviders?.github?.dangerouslyTrustUnverifiedEmail, true);
    assert.deepEqual(
      problems({ identityProviders: { github: { ...github, dangerouslyTrustUnverifiedEmail: 'yes' } } }),
      ['identityProviders.github.dangerouslyTrustUnverifiedEmail: expected true or false'],
    );
  });

  test('RFC 6749 §2.3.1: clientAuthentication (Basic or the form body) for providers and connections', () => {
    const okta = { name: 'Okta', issuer: 'https://acme.okta.com', clientId: 'x' };
    const config = parse({
      identityProviders: { okta: { ...okta, clientAuthentication: 'client_secret_basic' } },
    });
    assert.equal(config.identityProviders?.okta?.clientAuthentication, 'client_secret_basic');
    assert.deepEqual(
      problems({ identityProviders: { okta: { ...okta, clientAuthentication: 'private_key_jwt' } } }),
      ['identityProviders.okta.clientAuthentication: expected "client_secret_basic" or "client_secret_post"'],
    );
  });
});

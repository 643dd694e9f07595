import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type IdentityProviderConfig, resolveIdentityProviders } from './config.ts';

const keycloak: IdentityProviderConfig = {
  id: 'kc',
  name: 'Keycloak',
  issuer: 'https://sso.example.com/realms/acme',
  clientId: 'gatehouse',
};
const github: IdentityProviderConfig = {
  id: 'github',
  name: 'GitHub',
  type: 'oauth2',
  authorizationEndpoint: 'https://github.com/login/oauth/authorize',
  tokenEndpoint: 'https://github.com/login/oauth/access_token',
  userinfoEndpoint: 'https://api.github.com/user',
  clientId: 'x',
};

describe('identity providers: the subject', () => {
  test('OpenID Connect Core §5.7: users are keyed by a stable subject; a mutable claim as the subject is refused, saying why and what to use', () => {
    for (const claim of ['email', 'preferred_username', 'name']) {
      assert.throws(
        () => resolveIdentityProviders([{ ...keycloak, claims: { subject: claim } }]),
        (err: Error) => {
          assert.match(err.message, /^identityProviders\.kc\.claims\.subject: /);
          assert.match(err.message, new RegExp(`"${claim}" cannot be the subject`));
          assert.match(err.message, /pass to another person/);
          assert.match(err.message, /Use "sub"/);
          return true;
        },
      );
    }
    assert.throws(
      () => resolveIdentityProviders([{ ...github, claims: { subject: 'login' } }]),
      /"login" cannot be the subject.*GitHub: "id"/,
    );
  });

  test('the defaults, and a stable id claim such as Entra ID\'s "oid", are accepted', () => {
    const [kc, gh, entra] = resolveIdentityProviders([
      keycloak,
      github,
      { ...keycloak, id: 'entra', claims: { subject: 'oid' } },
    ]);
    assert.equal(kc?.claims.subject, 'sub');
    assert.equal(gh?.claims.subject, 'id');
    assert.equal(entra?.claims.subject, 'oid');
  });
});

test('dangerouslyTrustUnverifiedEmail is off unless a provider turns it on', () => {
  const [kc, gh] = resolveIdentityProviders([keycloak, { ...github, dangerouslyTrustUnverifiedEmail: true }]);
  assert.equal(kc?.dangerouslyTrustUnverifiedEmail, false);
  assert.equal(gh?.dangerouslyTrustUnverifiedEmail, true);
});

test('RFC 6749 §2.3.1: a provider authenticates with the form body unless it says client_secret_basic', () => {
  const [kc, okta] = resolveIdentityProviders([
    keycloak,
    { ...keycloak, id: 'okta', clientAuthentication: 'client_secret_basic' },
  ]);
  assert.equal(kc?.clientAuthentication, 'client_secret_post');
  assert.equal(okta?.clientAuthentication, 'client_secret_basic');
});

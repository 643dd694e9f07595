import assert from 'node:assert/strict';
import { test } from 'node:test';
import { admit } from './admission.ts';
import { type IdentityProviderConfig, resolveIdentityProviders } from './config.ts';

const provider = (extra: Partial<IdentityProviderConfig> = {}) =>
  resolveIdentityProviders([
    {
      id: 'corp',
      name: 'Corp SSO',
      issuer: 'https://sso.example.com',
      clientId: 'gatehouse',
      allowedEmailDomains: ['corp.example'],
      ...extra,
    },
  ])[0] as NonNullable<ReturnType<typeof resolveIdentityProviders>[number]>;

const claims = (verified?: unknown) =>
  new Map<string, unknown>([
    ['sub', 'u1'],
    ['email', 'ceo@corp.example'],
    ...(verified === undefined ? [] : [['email_verified', verified] as [string, unknown]]),
  ]);

test('OpenID Connect Core §5.1 (nOAuth): an email meets allowedEmailDomains only when email_verified is true or "true"', () => {
  assert.equal(admit(provider(), claims(true)).ok, true);
  assert.equal(admit(provider(), claims('true')).ok, true);
  for (const said of [undefined, false, 'false', 1, 'yes', null]) {
    const refused = admit(provider(), claims(said));
    assert.equal(refused.ok, false, String(said));
    assert.match(
      (refused as { reason: string }).reason,
      /Corp SSO has not verified your email address ceo@corp\.example/,
    );
  }
});

test('dangerouslyTrustUnverifiedEmail: a missing email_verified counts as verified; an explicit false never does', () => {
  const trusting = provider({ dangerouslyTrustUnverifiedEmail: true });
  assert.equal(admit(trusting, claims()).ok, true);
  assert.equal(admit(trusting, claims(false)).ok, false);
  assert.equal(admit(trusting, claims('false')).ok, false);
});

test('without allowedEmailDomains, email_verified does not matter', () => {
  assert.equal(admit(provider({ allowedEmailDomains: [] }), claims()).ok, true);
});

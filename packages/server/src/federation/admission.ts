import type { IdentityProvider } from './config.ts';
import type { UpstreamClaims } from './upstream.ts';

/** Who the provider says signed in, once the provider's rules admit them. */
export interface UpstreamPerson {
  subject: string;
  name?: string | undefined;
  email?: string | undefined;
}

export type Admission = { ok: true; person: UpstreamPerson } | { ok: false; reason: string };

const text = (value: unknown): string | undefined =>
  typeof value === 'string' && value !== '' ? value : typeof value === 'number' ? String(value) : undefined;

/**
 * Whether the provider vouches for the email address: `email_verified` is `true` (or `"true"`, as
 * some providers send it). A missing claim proves nothing: Entra ID sends none and lets users set
 * `email` themselves ("nOAuth"). Only a provider configured with `dangerouslyTrustUnverifiedEmail`
 * has its addresses taken as verified when it does not say; one that says `false` never.
 *
 * @see https://openid.net/specs/openid-connect-core-1_0.html#StandardClaims (`email_verified`)
 */
function emailVerified(provider: IdentityProvider, claims: UpstreamClaims): boolean {
  const said = claims.get('email_verified');
  if (said === true || said === 'true') return true;
  if (said === undefined) return provider.dangerouslyTrustUnverifiedEmail;
  return false;
}

/**
 * Applies a provider's rules to the claims of someone it signed in: a subject is required; with
 * `allowedEmailDomains`, an email the provider marks verified in one of them; with
 * `requiredClaim`, that value in the claim (a string, or one of an array's, as `groups` usually
 * is). Checked at every sign-in, so a person the provider stops vouching for (moved out of the
 * group) is refused from their next sign-in.
 */
export function admit(provider: IdentityProvider, claims: UpstreamClaims): Admission {
  const subject = text(claims.get(provider.claims.subject));
  if (subject === undefined) {
    return { ok: false, reason: `${provider.name} did not say who you are.` };
  }
  const email = text(claims.get(provider.claims.email));
  const name = text(claims.get(provider.claims.name));
  if (provider.allowedEmailDomains.length > 0) {
    const domains = provider.allowedEmailDomains.join(', ');
    const domain = email?.slice(email.lastIndexOf('@') + 1).toLowerCase();
    if (!email || domain === undefined || !provider.allowedEmailDomains.includes(domain)) {
      return {
        ok: false,
        reason: `Only accounts with a verified email address at ${domains} may sign in here.`,
      };
    }
    if (!emailVerified(provider, claims)) {
      return {
        ok: false,
        reason: `${provider.name} has not verified your email address ${email}, so it cannot show that you belong to ${domains}. Verify the address with ${provider.name}, or ask your administrator.`,
      };
    }
  }
  const rule = provider.requiredClaim;
  if (rule) {
    const value = claims.get(rule.claim);
    const has = Array.isArray(value) ? value.includes(rule.value) : value === rule.value;
    if (!has) {
      return {
        ok: false,
        reason: `Your ${provider.name} account is not one of those allowed to sign in here.`,
      };
    }
  }
  return { ok: true, person: { subject, name, email } };
}

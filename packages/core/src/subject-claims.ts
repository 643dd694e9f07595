/**
 * Claims that name a person but do not identify one for good: an address or a name can change
 * hands, be edited by the user, or be reused. Users of upstream identity providers are keyed by
 * (provider, subject), so the subject must be the provider's stable id. One list for the
 * configuration file's check and the authorization server's.
 *
 * @see https://openid.net/specs/openid-connect-core-1_0.html#ClaimStability
 */
export const UNSTABLE_SUBJECT_CLAIMS: ReadonlySet<string> = new Set([
  'email',
  'preferred_username',
  'name',
  'nickname',
  'given_name',
  'family_name',
  'login',
  'upn',
  'unique_name',
  'username',
]);

/** Why a claim cannot be a subject, or undefined when it can. */
export function unstableSubjectProblem(claim: string): string | undefined {
  if (!UNSTABLE_SUBJECT_CLAIMS.has(claim)) return undefined;
  return `"${claim}" cannot be the subject: it can change or pass to another person, and users are keyed by (provider, subject), so that person would get this account. Use "sub" for OpenID Connect, or the provider's immutable user id (GitHub: "id").`;
}

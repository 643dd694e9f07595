import { unstableSubjectProblem } from '@gatehouse/core';

/**
 * Upstream identity providers (issue #12): people sign in to Gatehouse with the account they
 * already have. Gatehouse is an OAuth client of each provider inside its own sign-in step.
 */
export interface IdentityProviderConfig {
  /** The provider's id: a path segment (`/signin/<id>`) and the first half of every identity key. */
  id: string;
  /** What the sign-in page's button says: "Continue with <name>". */
  name: string;
  /**
   * `oidc` (default): an OpenID Connect provider found by `issuer` (discovery, code + PKCE, `nonce`,
   * ID token validation). `oauth2`: a plain OAuth 2.0 provider whose user comes from a userinfo
   * endpoint (GitHub-style).
   */
  type?: 'oidc' | 'oauth2';
  /** OIDC: the issuer, whose `/.well-known/openid-configuration` is read. */
  issuer?: string;
  /** OAuth 2.0: the endpoints (OIDC providers publish theirs). */
  authorizationEndpoint?: string;
  tokenEndpoint?: string;
  userinfoEndpoint?: string;
  clientId: string;
  /**
   * The client secret; none for a public client. Kept by the federation module only, never on
   * the resolved configuration.
   */
  clientSecret?: string;
  /**
   * How Gatehouse authenticates with the secret at the token endpoint (RFC 6749 §2.3.1): in the
   * form body, or HTTP Basic (Okta's default). Default `client_secret_post`.
   */
  clientAuthentication?: 'client_secret_basic' | 'client_secret_post';
  /** Scopes to ask for. Default: `openid email profile` (OIDC), none (OAuth 2.0). */
  scopes?: string[];
  /**
   * Which claims (or userinfo members) hold the subject, the name and the email. Default: `sub`,
   * `preferred_username`, `email` (OIDC); `id`, `login`, `email` (OAuth 2.0, as GitHub names them).
   */
  claims?: { subject?: string; name?: string; email?: string };
  /**
   * Only people whose email is in one of these domains, and marked verified by the provider
   * (`email_verified` true), may sign in. Default: anyone the provider signs in.
   */
  allowedEmailDomains?: string[];
  /**
   * Takes the provider's email as verified when it sends no `email_verified` (an explicit `false`
   * still refuses). Only for a provider whose emails are always verified though it does not say
   * so, such as GitHub's primary email; never for one that lets users type any address (Entra ID:
   * anyone could claim ceo@your-domain and pass `allowedEmailDomains`). Default false.
   */
  dangerouslyTrustUnverifiedEmail?: boolean;
  /** Only people with this claim value may sign in, e.g. `{ claim: 'groups', value: 'mcp-users' }`. */
  requiredClaim?: { claim: string; value: string };
  /** For local development and tests only: talk to the provider over http. Default false. */
  dangerouslyAllowInsecureHttp?: boolean;
}

/** A provider as the rest of the server sees it: everything but the client secret. */
export type IdentityProvider = Required<
  Omit<
    IdentityProviderConfig,
    | 'clientSecret'
    | 'issuer'
    | 'authorizationEndpoint'
    | 'tokenEndpoint'
    | 'userinfoEndpoint'
    | 'allowedEmailDomains'
    | 'requiredClaim'
    | 'claims'
  >
> &
  Pick<
    IdentityProviderConfig,
    'issuer' | 'authorizationEndpoint' | 'tokenEndpoint' | 'userinfoEndpoint' | 'requiredClaim'
  > & {
    claims: { subject: string; name: string; email: string };
    allowedEmailDomains: string[];
  };

const PROVIDER_ID = /^[a-z0-9][a-z0-9-]{0,31}$/;

function endpoint(provider: IdentityProviderConfig, key: string, value: string | undefined): string {
  if (value === undefined) {
    throw new Error(`identityProviders.${provider.id}.${key} is required for a provider of type oauth2`);
  }
  checkUrl(provider, key, value);
  return value;
}

function checkUrl(provider: IdentityProviderConfig, key: string, value: string): void {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new Error(`identityProviders.${provider.id}.${key} is not a URL`);
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && provider.dangerouslyAllowInsecureHttp)) {
    throw new Error(`identityProviders.${provider.id}.${key} must use https`);
  }
}

/** Checks each provider and fills its defaults; the client secrets stay out of the result. */
export function resolveIdentityProviders(
  providers: readonly IdentityProviderConfig[] = [],
): IdentityProvider[] {
  const seen = new Set<string>();
  return providers.map((p) => {
    if (!PROVIDER_ID.test(p.id)) {
      throw new Error(`identityProviders: "${p.id}" is not a valid id; use lower-case letters, digits and -`);
    }
    if (seen.has(p.id)) throw new Error(`identityProviders: "${p.id}" is listed twice`);
    seen.add(p.id);
    const type = p.type ?? 'oidc';
    const oidc = type === 'oidc';
    const subject = p.claims?.subject ?? (oidc ? 'sub' : 'id');
    const unstable = unstableSubjectProblem(subject);
    if (unstable) throw new Error(`identityProviders.${p.id}.claims.subject: ${unstable}`);
    if (oidc) {
      if (p.issuer === undefined)
        throw new Error(`identityProviders.${p.id}.issuer is required for OpenID Connect`);
      checkUrl(p, 'issuer', p.issuer);
    }
    return {
      id: p.id,
      name: p.name,
      type,
      clientId: p.clientId,
      clientAuthentication: p.clientAuthentication ?? 'client_secret_post',
      scopes: p.scopes ?? (oidc ? ['openid', 'email', 'profile'] : []),
      claims: {
        subject,
        name: p.claims?.name ?? (oidc ? 'preferred_username' : 'login'),
        email: p.claims?.email ?? 'email',
      },
      allowedEmailDomains: (p.allowedEmailDomains ?? []).map((d) => d.toLowerCase()),
      dangerouslyTrustUnverifiedEmail: p.dangerouslyTrustUnverifiedEmail ?? false,
      dangerouslyAllowInsecureHttp: p.dangerouslyAllowInsecureHttp ?? false,
      ...(oidc
        ? { issuer: p.issuer }
        : {
            authorizationEndpoint: endpoint(p, 'authorizationEndpoint', p.authorizationEndpoint),
            tokenEndpoint: endpoint(p, 'tokenEndpoint', p.tokenEndpoint),
            userinfoEndpoint: endpoint(p, 'userinfoEndpoint', p.userinfoEndpoint),
          }),
      ...(p.requiredClaim ? { requiredClaim: { ...p.requiredClaim } } : {}),
    };
  });
}

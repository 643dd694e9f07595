import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import Provider from 'oidc-provider';
import { closeServer, listen } from './loopback.ts';

/**
 * A real OpenID Connect provider on 127.0.0.1 (oidc-provider) standing in for Keycloak, Okta or
 * Google in tests. Its sign-in is automatic: whoever `signInAs` names is signed in and approves at
 * once, as an upstream session that approves silently would (Gatehouse's own consent must still
 * follow).
 */
export interface UpstreamIdp {
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** Everyone the provider knows, by subject. */
  accounts: Map<string, Record<string, unknown>>;
  /** The subject the next sign-in signs in. */
  signInAs: string;
  /** Token endpoint requests so far. */
  tokenRequests: number;
  /** Builds the provider with Gatehouse's callbacks as the client's redirect URIs (known once Gatehouse listens). */
  register(redirectUris: string[]): void;
  close(): Promise<void>;
}

/** The parts of oidc-provider (which ships no types) this helper uses. */
interface OidcProvider {
  callback(): (req: IncomingMessage, res: ServerResponse) => void;
  use(middleware: (ctx: { path: string; method: string }, next: () => Promise<void>) => Promise<void>): void;
  interactionDetails(
    req: IncomingMessage,
    res: ServerResponse,
  ): Promise<{
    uid: string;
    prompt: { name: string; details: { missingOIDCScope?: string[]; missingOIDCClaims?: string[] } };
    params: { client_id: string };
    session?: { accountId?: string };
  }>;
  interactionFinished(
    req: IncomingMessage,
    res: ServerResponse,
    result: Record<string, unknown>,
    options?: { mergeWithLastSubmission?: boolean },
  ): Promise<void>;
  Grant: new (
    fields: Record<string, unknown>,
  ) => { save(): Promise<string>; addOIDCScope(scope: string): void; addOIDCClaims(claims: string[]): void };
}

/** Listens on loopback; the provider answers once `register` has named Gatehouse's callbacks. */
export async function startUpstreamIdp(): Promise<UpstreamIdp> {
  const server = createServer();
  const issuer = await listen(server);
  const clientId = 'gatehouse';
  const clientSecret = 'idp-client-secret-for-tests';
  const accounts = new Map<string, Record<string, unknown>>();
  const idp: UpstreamIdp = {
    issuer,
    clientId,
    clientSecret,
    accounts,
    signInAs: '',
    tokenRequests: 0,
    register: (uris) => {
      handler = build(uris);
    },
    close: () => closeServer(server),
  };
  let handler: ((req: IncomingMessage, res: ServerResponse) => void) | undefined;
  const build = (redirectUris: string[]) => {
    const provider = new Provider(issuer, {
      clients: [
        {
          client_id: clientId,
          client_secret: clientSecret,
          grant_types: ['authorization_code'],
          response_types: ['code'],
          redirect_uris: redirectUris,
          token_endpoint_auth_method: 'client_secret_post',
        },
      ],
      claims: {
        openid: ['sub'],
        email: ['email', 'email_verified'],
        profile: ['preferred_username', 'groups'],
      },
      findAccount: (_ctx: unknown, sub: string) =>
        accounts.has(sub) ? { accountId: sub, claims: () => ({ sub, ...accounts.get(sub) }) } : undefined,
      interactions: { url: (_ctx: unknown, interaction: { uid: string }) => `/auto/${interaction.uid}` },
      features: { devInteractions: { enabled: false } },
      pkce: { required: () => true },
    }) as unknown as OidcProvider;
    provider.use(async (ctx, next) => {
      if (ctx.path === '/token' && ctx.method === 'POST') idp.tokenRequests++;
      await next();
    });
    const oidcCallback = provider.callback();
    return async (req: IncomingMessage, res: ServerResponse) => {
      if (req.url?.startsWith('/auto/')) {
        // The automatic sign-in and approval of an upstream session that asks nothing.
        const details = await provider.interactionDetails(req, res);
        if (details.prompt.name === 'login') {
          await provider.interactionFinished(req, res, { login: { accountId: idp.signInAs } });
          return;
        }
        const grant = new provider.Grant({
          accountId: details.session?.accountId,
          clientId: details.params.client_id,
        });
        if (details.prompt.details.missingOIDCScope)
          grant.addOIDCScope(details.prompt.details.missingOIDCScope.join(' '));
        if (details.prompt.details.missingOIDCClaims)
          grant.addOIDCClaims(details.prompt.details.missingOIDCClaims);
        await provider.interactionFinished(
          req,
          res,
          { consent: { grantId: await grant.save() } },
          {
            mergeWithLastSubmission: true,
          },
        );
        return;
      }
      oidcCallback(req, res);
    };
  };
  server.on('request', (req, res) => {
    if (!handler) res.writeHead(503).end();
    else Promise.resolve(handler(req, res)).catch(() => res.writeHead(500).end());
  });
  return idp;
}

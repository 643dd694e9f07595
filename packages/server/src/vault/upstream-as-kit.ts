import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider from 'oidc-provider';

/**
 * A real OAuth authorization server on 127.0.0.1 (oidc-provider) standing in for an upstream API's
 * (GitHub's, Jira's) in tests. It counts token-endpoint requests, and can hand out a refresh token
 * for a user directly, as if that user had connected earlier.
 */
export interface UpstreamAs {
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** Token endpoint requests so far, by grant type. */
  tokenRequests: Map<string, number>;
  /** How each token request authenticated the client, in order: Basic header or form body. */
  tokenAuthentication: Array<'client_secret_basic' | 'client_secret_post'>;
  revocationRequests: number;
  /** A refresh token for `accountId`, as a connect would have left it. */
  seedRefreshToken(accountId: string): Promise<string>;
  /** Whether the provider still accepts a token (RFC 7662 introspection of its own store). */
  isActive(token: string): Promise<boolean>;
  close(): Promise<void>;
}

/** The parts of oidc-provider (which ships no types) these tests use. */
interface OidcToken {
  save(): Promise<string>;
  isExpired?: boolean;
  consumed?: unknown;
}
interface OidcProvider {
  callback(): (req: IncomingMessage, res: ServerResponse) => void;
  use(middleware: (ctx: KoaContext, next: () => Promise<void>) => Promise<void>): void;
  Client: { find(id: string): Promise<unknown> };
  Grant: new (fields: Record<string, unknown>) => OidcToken & { addOIDCScope(scope: string): void };
  RefreshToken: (new (
    fields: Record<string, unknown>,
  ) => OidcToken) & { find(value: string): Promise<OidcToken | undefined> };
  AccessToken: { find(value: string): Promise<OidcToken | undefined> };
}
interface KoaContext {
  path: string;
  method: string;
  get(header: string): string;
  oidc?: { params?: Record<string, unknown> };
}

export async function startUpstreamAs(
  options: {
    redirectUri?: string;
    /** How the provider requires Gatehouse's client to authenticate (RFC 6749 §2.3.1). */
    tokenEndpointAuthMethod?: 'client_secret_basic' | 'client_secret_post';
  } = {},
): Promise<UpstreamAs> {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const clientId = 'gatehouse-vault';
  const clientSecret = 'upstream-client-secret-for-tests';
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: clientId,
        client_secret: clientSecret,
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        redirect_uris: [options.redirectUri ?? `${issuer}/unused`],
        token_endpoint_auth_method: options.tokenEndpointAuthMethod ?? 'client_secret_post',
      },
    ],
    scopes: ['offline_access', 'repo'],
    findAccount: (_ctx: unknown, sub: string) => ({ accountId: sub, claims: () => ({ sub }) }),
    features: { revocation: { enabled: true }, introspection: { enabled: true } },
    ttl: { AccessToken: 3600, RefreshToken: 86400 },
  }) as unknown as OidcProvider;
  const upstream: UpstreamAs = {
    issuer,
    clientId,
    clientSecret,
    tokenRequests: new Map(),
    tokenAuthentication: [],
    revocationRequests: 0,
    async seedRefreshToken(accountId) {
      const grant = new provider.Grant({ accountId, clientId });
      grant.addOIDCScope('offline_access repo');
      const grantId = await grant.save();
      const client = await provider.Client.find(clientId);
      const token = new provider.RefreshToken({
        accountId,
        client,
        grantId,
        scope: 'offline_access repo',
        gty: 'authorization_code',
      });
      return token.save();
    },
    async isActive(token) {
      const found = (await provider.RefreshToken.find(token)) ?? (await provider.AccessToken.find(token));
      return Boolean(found && !found.isExpired && !found.consumed);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  provider.use(async (ctx: KoaContext, next: () => Promise<void>) => {
    await next();
    if (ctx.method !== 'POST') return;
    if (ctx.path === '/token') {
      const type = String(ctx.oidc?.params?.grant_type ?? '?');
      upstream.tokenRequests.set(type, (upstream.tokenRequests.get(type) ?? 0) + 1);
      upstream.tokenAuthentication.push(
        /^basic /i.test(ctx.get('authorization')) ? 'client_secret_basic' : 'client_secret_post',
      );
    }
    if (ctx.path === '/token/revocation') upstream.revocationRequests++;
  });
  server.on('request', provider.callback());
  return upstream;
}

/**
 * oidc-provider (panva), configured like Gatehouse: ES256 JWT access tokens (RFC 9068) for one
 * resource indicator (RFC 8707), a confidential client using client_secret_basic, refresh token
 * rotation on every use, client_credentials enabled, its own in-memory adapter, production mode.
 *
 * Run as a child process of bench/run.ts (IPC channel required).
 */
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair } from 'jose';
import Provider, { errors } from 'oidc-provider';
import {
  ACCESS_TOKEN_TTL,
  BENCH_REDIRECT_URI,
  BENCH_SCOPE,
  type MintRequest,
  type ReadyMessage,
} from '../protocol.ts';

const clientId = 'bench-client';
const clientSecret = randomUUID() + randomUUID();
const accountId = 'bench-user';

const { privateKey } = await generateKeyPair('ES256', { extractable: true });
const signingKey = { ...(await exportJWK(privateKey)), kid: randomUUID(), alg: 'ES256', use: 'sig' };

const server = createServer();
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
const resource = `${issuer}/mcp`;

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: clientId,
      client_secret: clientSecret,
      grant_types: ['authorization_code', 'refresh_token', 'client_credentials'],
      response_types: ['code'],
      redirect_uris: [BENCH_REDIRECT_URI],
      token_endpoint_auth_method: 'client_secret_basic',
      scope: `offline_access ${BENCH_SCOPE}`,
    },
  ],
  clientDefaults: { id_token_signed_response_alg: 'ES256' },
  jwks: { keys: [signingKey] },
  scopes: ['openid', 'offline_access', ...BENCH_SCOPE.split(' ')],
  findAccount: async (_ctx: unknown, sub: string) => ({ accountId: sub, claims: async () => ({ sub }) }),
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: async () => resource,
      useGrantedResource: async () => true,
      getResourceServerInfo: async (_ctx: unknown, indicator: string) => {
        if (indicator !== resource) throw new errors.InvalidTarget();
        return {
          scope: BENCH_SCOPE,
          audience: resource,
          accessTokenTTL: ACCESS_TOKEN_TTL,
          accessTokenFormat: 'jwt',
          jwt: { sign: { alg: 'ES256' } },
        };
      },
    },
  },
  rotateRefreshToken: true,
  ttl: {
    AccessToken: ACCESS_TOKEN_TTL,
    ClientCredentials: ACCESS_TOKEN_TTL,
    RefreshToken: 30 * 86400,
    Grant: 30 * 86400,
  },
});
server.on('request', provider.callback());

/**
 * The first link of a refresh chain: the Grant and RefreshToken an authorization code exchange
 * would have produced (same fields, saved through the provider's own models and adapter).
 */
async function mintRefreshToken(): Promise<string> {
  const client = await provider.Client.find(clientId);
  const grant = new provider.Grant({ accountId, clientId });
  grant.addOIDCScope('offline_access');
  grant.addResourceScope(resource, BENCH_SCOPE);
  const grantId = await grant.save();
  const now = Math.floor(Date.now() / 1000);
  const token = new provider.RefreshToken({
    accountId,
    client,
    grantId,
    gty: 'authorization_code',
    resource,
    scope: `offline_access ${BENCH_SCOPE}`,
    authTime: now,
    expiresWithSession: false,
  });
  return token.save();
}

process.on('message', async (message: MintRequest) => {
  if (message.type !== 'mint') return;
  try {
    const tokens: string[] = [];
    for (let i = 0; i < message.count; i++) tokens.push(await mintRefreshToken());
    process.send?.({ type: 'minted', id: message.id, tokens });
  } catch (err) {
    process.send?.({ type: 'minted', id: message.id, tokens: [], error: String(err) });
  }
});
process.once('SIGTERM', () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
});

const ready: ReadyMessage = {
  type: 'ready',
  tokenEndpoint: `${issuer}/token`,
  resource,
  clientId,
  clientSecret,
};
process.send?.(ready);

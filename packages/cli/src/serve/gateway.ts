import type { RevocationSource } from '@gatehouse/core';
import { defaultScopes } from '@gatehouse/core';
import type { GatehouseConfig } from '@gatehouse/gateway';
import type { AuthorizationServer, AuthorizationServerConfig } from '@gatehouse/server';
import { CompactSign } from 'jose';
import { mountMcpServer } from '../mount.ts';
import type { ServerStatus } from '../servers-status.ts';

/**
 * The MCP scopes every server shares (`tools:list`, `tools:execute`, `resources:read`, …), without
 * the demo's own `tools:execute:filesystem` and `tools:execute:database`: the gateway defines a
 * `tools:execute:<name>` per configured server, with a sentence from its title, and the AS must not
 * advertise scopes of servers that are not there.
 */
const mcpBaseScopes = defaultScopes.filter((scope) => !scope.name.startsWith('tools:execute:'));

/** The configured MCP servers behind the guard, wired into one authorization server. */
export interface ServedGateway {
  /**
   * What the AS must know of them: the resources it issues tokens for, its scope catalogue, and
   * for consent each server's tool names and the upstream accounts it uses.
   */
  authorizationServer: Required<
    Pick<AuthorizationServerConfig, 'resources' | 'scopes' | 'toolsOf' | 'connectionsOf'>
  >;
  /** Each server's URL, for the announcement. */
  servers: readonly { name: string; resource: string; path: string }[];
  /** Mounts every server in the AS's one router and connects audit, revocations and signing to it. */
  attach(as: AuthorizationServer): void;
  status(): (ServerStatus & { url: string })[];
  close(): Promise<void>;
}

/**
 * The gateway for the configuration's `mcpServers`. It needs the AS (its revocation list, its
 * audit log, its signing key) and the AS needs it (resources, scopes, tool names for consent):
 * the gateway is created first with callbacks that reach the AS once `attach` has run, which is
 * before any request can arrive (nothing is mounted until then).
 */
export async function createServedGateway(
  issuer: string,
  config: GatehouseConfig,
  log: (server: string, line: string) => void,
): Promise<ServedGateway> {
  // Loaded only with a configuration file: `gatehouse serve` without one never touches the gateway.
  const { createGateway } = await import('@gatehouse/gateway');
  let attached: AuthorizationServer | undefined;
  const as = () => {
    if (!attached) throw new Error('the gateway was used before the authorization server was attached');
    return attached;
  };
  // In-process revocations: a revoked or narrowed grant is refused on the very next request.
  const revocations: RevocationSource = {
    isRevoked: (claims) => as().revocations.isRevoked(claims),
    narrowedScope: (gid) => as().revocations.narrowedScope?.(gid),
  };
  /** Each server's upstream API connection id, by server name (for the token vault). */
  const connections = new Map<string, string>();
  for (const [name, server] of Object.entries(config.mcpServers ?? {}))
    if (server.connection !== undefined) connections.set(name, server.connection);
  const connectionOf = (server: string) => {
    const connection = connections.get(server);
    if (connection === undefined) throw new Error(`the MCP server "${server}" has no connection`);
    return connection;
  };
  const gateway = createGateway({
    issuer,
    servers: config.mcpServers ?? {},
    revocations,
    // The guards read the AS's metadata and keys in process, as the demo's does.
    fetch: (input, init) => as().fetch(new Request(input, init)),
    audit: (event) => as().context.audit(event),
    // Keyed by the master secret: audit hashes and request states hold across restarts and instances.
    mac: (purpose, value) => as().context.secrets.mac(purpose, value),
    // The vault answers by connection id; the gateway asks by server name.
    credentials: (server, userId) => as().vault.accessToken(userId, connectionOf(server)),
    credentialRejected: (server, userId, isRejected) =>
      as().vault.rejected(userId, connectionOf(server), isRejected),
    ...(config.connections ? { connections: config.connections } : {}),
    signIdentityAssertion: (claims) => signIdentityAssertion(as(), claims),
    log,
  });
  /** The connection each server uses, by the server's resource (what consent knows it by). */
  const connectionOfResource = new Map<string, string>();
  for (const server of gateway.servers) {
    const connection = connections.get(server.name);
    if (connection !== undefined) connectionOfResource.set(server.resource, connection);
  }
  return {
    authorizationServer: {
      resources: gateway.servers.map((server) => server.resource),
      scopes: [...mcpBaseScopes, ...gateway.scopes],
      toolsOf: (resource) => gateway.toolsOf(resource),
      connectionsOf: (resource) => {
        const connection = connectionOfResource.get(resource);
        return connection === undefined ? [] : [connection];
      },
    },
    servers: gateway.servers,
    attach(server) {
      attached = server;
      for (const mcp of gateway.servers) mountMcpServer(server, mcp.path, mcp.fetch, { rootMetadata: false });
    },
    status: () => gateway.status().map((status) => ({ ...status, url: `${issuer}/mcp/${status.server}` })),
    close: () => gateway.close(),
  };
}

/**
 * The identity assertion an `identityAssertion` upstream receives instead of the client's token:
 * the claims the gateway built, signed with the AS's current access-token key (so the upstream
 * verifies it with the JWKS), typed `gatehouse-identity+jwt` (RFC 8725 §3.11) so that it can
 * never pass for an access token (`at+jwt`) anywhere.
 */
async function signIdentityAssertion(
  as: AuthorizationServer,
  claims: Record<string, unknown>,
): Promise<string> {
  const key = as.context.keys.active;
  return new CompactSign(new TextEncoder().encode(JSON.stringify(claims)))
    .setProtectedHeader({ alg: key.alg, typ: 'gatehouse-identity+jwt', kid: key.kid })
    .sign(key.key);
}

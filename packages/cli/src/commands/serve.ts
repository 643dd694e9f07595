import { createServer } from 'node:http';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { demoManifest, protectDemo } from '@gatehouse/demo-mcp';
import {
  createAuthorizationServer,
  loadMasterSecret,
  refuseMalformedRequest,
  toNodeListener,
} from '@gatehouse/server';
import { CONFIG_OPTION, findConfigFile, readConfigFile } from '../config-file.ts';
import { DEFAULT_DATA_DIR, openDataFolder } from '../data.ts';
import { mountMcpServer } from '../mount.ts';
import { UsageError } from '../output.ts';
import { createServedGateway, type ServedGateway } from '../serve/gateway.ts';
import { resolveServeSettings } from '../serve/settings.ts';
import { keepStatusFile } from '../servers-status.ts';

export const USAGE = `Usage: gatehouse serve [--config FILE] [--port 8080] [--host 127.0.0.1] [--data DIR] [--issuer URL]
                       [--store URL] [--trust-proxy] [--access-token-ttl 1h]
                       [--refresh-token-ttl 30d] [--refresh-token-idle-ttl 14d]

Runs the authorization server and the MCP servers it protects on one port: each server of the
configuration file's mcpServers at <issuer>/mcp/<name>, or without a configuration file the
demo MCP server at <issuer>/mcp. \`gatehouse servers\` shows how they are doing.

${CONFIG_OPTION}
  --port N        the port to listen on (default 8080, or PORT; 0 picks a free one)
  --host ADDRESS  the address to listen on (default 127.0.0.1)
  --data DIR      the data folder: master secret, SQLite database, demo files, servers.json
                  (default .gatehouse, or GATEHOUSE_DATA; created when missing)
  --issuer URL    the public https URL clients reach, at the root of its own host name,
                  e.g. https://auth.example.com (default http://HOST:PORT, or GATEHOUSE_ISSUER)
  --store URL     postgres://… to keep the state in PostgreSQL (or GATEHOUSE_STORE)
  --trust-proxy   behind a load balancer: per-address rate limits use the last
                  X-Forwarded-For entry (or GATEHOUSE_TRUST_PROXY=1)
  --access-token-ttl DURATION        access-token lifetime, 15m to 1h (default 1h)
  --refresh-token-ttl DURATION       refresh-token lifetime (default 30d)
  --refresh-token-idle-ttl DURATION  a refresh token unused this long stops working (default 14d)
                  durations: 90s, 15m, 1h, 30d, or whole seconds

A flag wins over its environment variable, which wins over the configuration file.
GATEHOUSE_SECRET supplies the master secret instead of the data folder's key file.`;

/** Upstream stderr and process events, one line each, under the server's name. */
function logUpstream(server: string, line: string): void {
  process.stderr.write(`[${server}] ${line}\n`);
}

/** The issuer a fresh machine gets: the address we listen on, over http, which only loopback allows. */
function defaultIssuer(host: string, port: number): string {
  const shown = host === '0.0.0.0' || host === '::' ? 'localhost' : host.includes(':') ? `[${host}]` : host;
  return `http://${shown}:${port}`;
}

/**
 * `gatehouse serve`: the authorization server and the MCP servers of the configuration file (or
 * the demo MCP server) on the embedded store or PostgreSQL.
 */
export async function run(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      config: { type: 'string' },
      port: { type: 'string' },
      host: { type: 'string' },
      data: { type: 'string' },
      issuer: { type: 'string' },
      store: { type: 'string' },
      // Behind a load balancer: per-address rate limits use the last X-Forwarded-For entry.
      'trust-proxy': { type: 'boolean' },
      'access-token-ttl': { type: 'string' },
      'refresh-token-ttl': { type: 'string' },
      'refresh-token-idle-ttl': { type: 'string' },
    },
  });
  const configFile = findConfigFile(values.config);
  const config = configFile === undefined ? undefined : readConfigFile(configFile);
  const settings = resolveServeSettings(values, process.env, config, USAGE);
  const { port, host } = settings;

  const data = await openDataFolder({ data: settings.data, store: settings.store });
  const server = createServer();
  // Port 0 picks a free port; the issuer needs the real one, so listen before building it.
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        err.code === 'EADDRINUSE'
          ? new UsageError(`Port ${port} on ${host} is in use. Choose another with --port, e.g. --port 8081.`)
          : err,
      ),
    );
    server.listen(port, host, resolve);
  });
  const address = server.address();
  const actualPort = typeof address === 'object' && address ? address.port : port;
  const issuer = settings.issuer ?? defaultIssuer(host, actualPort);

  // With a configuration file, its MCP servers (stdio processes start on first use).
  let gateway: ServedGateway | undefined;
  if (config) {
    try {
      gateway = await createServedGateway(issuer, config, logUpstream);
    } catch (err) {
      server.close();
      await data.store.close();
      throw new UsageError((err as Error).message);
    }
  }

  let as: Awaited<ReturnType<typeof createAuthorizationServer>>;
  try {
    as = await createAuthorizationServer({
      issuer,
      store: data.store,
      masterSecret: loadMasterSecret(data.dir),
      ...settings.authorizationServer,
      // The consent page names the demo's tools each scope unlocks, from the manifest the guard enforces.
      ...(gateway
        ? gateway.authorizationServer
        : {
            toolsOf: async () => Object.entries(demoManifest.tools).map(([name, scope]) => ({ name, scope })),
          }),
    });
  } catch (err) {
    server.close();
    await gateway?.close();
    await data.store.close();
    throw new UsageError((err as Error).message);
  }
  // Without a configuration file, the demo MCP server, protected by the guard exactly as an MCP
  // server author would do it, sharing this process's revocation list so a revocation is refused
  // on the very next request.
  const mcpUrl = `${issuer}/mcp`;
  const demo = gateway
    ? undefined
    : protectDemo({
        dataDir: join(data.dir, 'demo'),
        resource: mcpUrl,
        authorizationServers: [issuer],
        revocations: as.revocations,
        fetch: (input, init) => as.fetch(new Request(input, init)),
      });
  if (demo) mountMcpServer(as, '/mcp', demo.fetch);
  gateway?.attach(as);
  const statusFile = gateway
    ? keepStatusFile(data.dir, () => ({ issuer, servers: (gateway as ServedGateway).status() }))
    : undefined;
  server.on('request', toNodeListener(as.fetch, issuer, { trustProxy: settings.trustProxy }));
  server.on('clientError', refuseMalformedRequest);

  const users = await data.store.listUsers();
  const servers = gateway
    ? gateway.servers.map((mcp) => `  MCP server ${`${mcp.name}:`.padEnd(21)}${mcp.resource}`)
    : [`  MCP server (demo):              ${mcpUrl}`];
  const firstServer = gateway ? gateway.servers[0]?.resource : mcpUrl;
  const lines = [
    'Gatehouse is running.',
    '',
    ...(configFile ? [`  Configuration:                  ${configFile}`] : []),
    ...servers,
    `  Issuer (authorization server):  ${issuer}`,
    `  Metadata:                       ${issuer}/.well-known/oauth-authorization-server`,
    `  Data folder:                    ${data.dir}`,
    '',
    'Next steps:',
    users.length === 0
      ? `  1. Create a user (in another terminal):\n       echo 'a-long-password' | npx gatehouse users add alice --password-stdin${settings.data === DEFAULT_DATA_DIR ? '' : ` --data ${settings.data}`}`
      : `  1. Users who can sign in: ${users.map((u) => u.username).join(', ')} (add more with: npx gatehouse users add NAME --password-stdin)`,
    ...(firstServer
      ? [
          `  2. Point an MCP client at ${firstServer}; it discovers this server, registers, and sends`,
          `     you here to sign in and approve. Or try it from this machine:`,
          `       npx gatehouse tools ${firstServer}`,
        ]
      : [`  2. Add MCP servers to ${configFile}'s mcpServers (see docs/configuration.md).`]),
    '',
    'Stop with Ctrl+C.',
  ];
  // Listen for signals before announcing readiness: whoever reads the announcement may signal at once.
  const stopped = new Promise<void>((resolve) => {
    const stop = () => {
      server.close(() => resolve());
      server.closeAllConnections();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  console.log(lines.join('\n'));
  await stopped;
  await statusFile?.stop();
  await demo?.close();
  await gateway?.close();
  await as.close();
  await data.store.close();
  return 0;
}

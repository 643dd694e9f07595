import { createServer } from 'node:http';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { demoManifest, protectDemo } from '@gatehouse/demo-mcp';
import { createAuthorizationServer, refuseMalformedRequest, toNodeListener } from '@gatehouse/server';
import { DEFAULT_DATA_DIR, openDataFolder } from '../data.ts';
import { mountMcpServer } from '../mount.ts';
import { UsageError } from '../output.ts';

export const USAGE = `Usage: gatehouse serve [--port 8080] [--host 127.0.0.1] [--data DIR] [--issuer URL] [--store URL] [--trust-proxy]

Runs the authorization server and the demo MCP server (at <issuer>/mcp) on one port.

  --port N        the port to listen on (default 8080, or PORT; 0 picks a free one)
  --host ADDRESS  the address to listen on (default 127.0.0.1)
  --data DIR      the data folder: master secret, SQLite database, demo files
                  (default .gatehouse, or GATEHOUSE_DATA; created when missing)
  --issuer URL    the public https URL clients reach, at the root of its own host name,
                  e.g. https://auth.example.com (default http://HOST:PORT, or GATEHOUSE_ISSUER)
  --store URL     postgres://… to keep the state in PostgreSQL (or GATEHOUSE_STORE)
  --trust-proxy   behind a load balancer: per-address rate limits use the last
                  X-Forwarded-For entry (or GATEHOUSE_TRUST_PROXY=1)

GATEHOUSE_SECRET supplies the master secret instead of the data folder's key file.`;

/** The issuer a fresh machine gets: the address we listen on, over http, which only loopback allows. */
function defaultIssuer(host: string, port: number): string {
  const shown = host === '0.0.0.0' || host === '::' ? 'localhost' : host.includes(':') ? `[${host}]` : host;
  return `http://${shown}:${port}`;
}

/** `gatehouse serve`: the authorization server and the demo MCP server on the embedded store. */
export async function run(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      port: { type: 'string', default: process.env.PORT ?? '8080' },
      host: { type: 'string', default: '127.0.0.1' },
      data: { type: 'string', default: process.env.GATEHOUSE_DATA ?? DEFAULT_DATA_DIR },
      issuer: { type: 'string', default: process.env.GATEHOUSE_ISSUER },
      store: { type: 'string', default: process.env.GATEHOUSE_STORE },
      // Behind a load balancer: per-address rate limits use the last X-Forwarded-For entry.
      'trust-proxy': { type: 'boolean', default: process.env.GATEHOUSE_TRUST_PROXY === '1' },
    },
  });
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new UsageError(`--port must be a port number.\n${USAGE}`);
  const host = values.host;

  const data = await openDataFolder({ data: values.data, store: values.store || undefined });
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
  const issuer = values.issuer ?? defaultIssuer(host, actualPort);

  let as: Awaited<ReturnType<typeof createAuthorizationServer>>;
  try {
    as = await createAuthorizationServer({
      issuer,
      store: data.store,
      masterSecret: data.masterSecret,
      // The consent page names the demo's tools each scope unlocks, from the manifest the guard enforces.
      toolsOf: async () => Object.entries(demoManifest.tools).map(([name, scope]) => ({ name, scope })),
    });
  } catch (err) {
    server.close();
    await data.store.close();
    throw new UsageError((err as Error).message);
  }
  // The demo MCP server, protected by the guard exactly as an MCP server author would do it,
  // sharing this process's revocation list so a revocation is refused on the very next request.
  const mcpUrl = `${issuer}/mcp`;
  const demo = protectDemo({
    dataDir: join(data.dir, 'demo'),
    resource: mcpUrl,
    authorizationServers: [issuer],
    revocations: as.revocations,
    fetch: (input, init) => as.fetch(new Request(input, init)),
  });
  mountMcpServer(as, '/mcp', demo.fetch);
  server.on('request', toNodeListener(as.fetch, issuer, { trustProxy: values['trust-proxy'] }));
  server.on('clientError', refuseMalformedRequest);

  const users = await data.store.listUsers();
  const lines = [
    'Gatehouse is running.',
    '',
    `  MCP server (demo):              ${mcpUrl}`,
    `  Issuer (authorization server):  ${issuer}`,
    `  Metadata:                       ${issuer}/.well-known/oauth-authorization-server`,
    `  Data folder:                    ${data.dir}`,
    '',
    'Next steps:',
    users.length === 0
      ? `  1. Create a user (in another terminal):\n       echo 'a-long-password' | npx gatehouse users add alice --password-stdin${values.data === DEFAULT_DATA_DIR ? '' : ` --data ${values.data}`}`
      : `  1. Users who can sign in: ${users.map((u) => u.username).join(', ')} (add more with: npx gatehouse users add NAME --password-stdin)`,
    `  2. Point an MCP client at ${mcpUrl}; it discovers this server, registers, and sends`,
    `     you here to sign in and approve. Or try it from this machine:`,
    `       npx gatehouse tools ${mcpUrl}`,
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
  await demo.close();
  await as.close();
  await data.store.close();
  return 0;
}

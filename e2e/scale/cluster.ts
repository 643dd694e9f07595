/**
 * Several `gatehouse serve` processes on one PostgreSQL schema, as behind a load balancer: one
 * shared GATEHOUSE_SECRET, one issuer URL (a round-robin loopback proxy in front), each instance
 * also reachable at its own address so a test can choose where every request goes.
 */
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { type CliResult, type GatehouseProcess, gatehouse, serve } from '../helpers/gatehouse-cli.ts';
import { closeServer, freePort, startLoopbackServer } from '../helpers/loopback.ts';

export interface Instance extends GatehouseProcess {
  /** Where this instance listens, e.g. http://127.0.0.1:40123 (the issuer is the proxy's URL). */
  url: string;
}

export interface Cluster {
  /** The one issuer URL every instance announces: a round-robin proxy over the instances. */
  issuer: string;
  instances: Instance[];
  /** Runs `gatehouse <args> --data … --store …` against the cluster's store. */
  admin(args: string[], input?: string): Promise<CliResult>;
  stop(): Promise<void>;
}

export interface ClusterOptions {
  /** postgres:// URL of the shared store, schema included. */
  store: string;
  /** A temp folder; each instance gets its own data folder inside (the demo's files). */
  dir: string;
  size: number;
  secret?: string;
}

/**
 * Starts `size` instances at once on an empty store (so they race on migrations and on the first
 * signing key, as a fresh deployment does) behind a round-robin proxy at the issuer URL.
 */
export async function startCluster(options: ClusterOptions): Promise<Cluster> {
  const env = {
    GATEHOUSE_SECRET: options.secret ?? 'scale-test-secret-'.padEnd(48, 'x'),
    GATEHOUSE_STORE: options.store,
  };
  const ports = await Promise.all(Array.from({ length: options.size }, () => freePort()));
  let next = 0;
  // The load balancer: each request to the next instance, no stickiness. A request to an instance
  // that is down goes to the one after it, as a balancer with health checks would do.
  const proxy = await startLoopbackServer(async (req, res) => {
    // Bodies are small forms: read them whole, so a retry on another instance can resend them.
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const tryPort = (attempt: number) => {
      const port = ports[(next++ + attempt) % ports.length] as number;
      const upstream = httpRequest(
        { host: '127.0.0.1', port, method: req.method, path: req.url, headers: req.headers },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      upstream.on('error', () => {
        if (attempt + 1 < ports.length && !res.headersSent) tryPort(attempt + 1);
        else res.destroy();
      });
      upstream.end(body);
    };
    tryPort(0);
  });
  const issuer = proxy.url;
  const instances: Instance[] = [];
  try {
    const started = await Promise.allSettled(
      ports.map(async (port, i) => {
        const instance = await serve(join(options.dir, `instance-${i}`), {
          port,
          issuer,
          env,
          timeoutMs: 60_000,
        });
        return { ...instance, url: `http://127.0.0.1:${port}` };
      }),
    );
    for (const s of started) if (s.status === 'fulfilled') instances.push(s.value);
    const failed = started.find((s) => s.status === 'rejected');
    if (failed) throw (failed as PromiseRejectedResult).reason;
  } catch (err) {
    await Promise.all(instances.map((i) => i.stop()));
    await closeServer(proxy.server);
    throw err;
  }
  return {
    issuer,
    instances,
    admin: (args, input) => gatehouse([...args, '--data', join(options.dir, 'admin')], input, env),
    async stop() {
      await Promise.all(instances.map((i) => i.stop()));
      await proxy.close();
    },
  };
}

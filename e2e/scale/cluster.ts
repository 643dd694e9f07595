/**
 * Several `gatehouse serve` processes on one PostgreSQL schema, as behind a load balancer: one
 * shared GATEHOUSE_SECRET, one issuer URL (a round-robin loopback proxy in front), each instance
 * also reachable at its own address so a test can choose where every request goes.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CliResult } from '../helpers/gatehouse-cli.ts';
import { closeServer, freePort, startLoopbackServer } from '../helpers/loopback.ts';

const MAIN = fileURLToPath(new URL('../../packages/cli/src/main.ts', import.meta.url));

export interface Instance {
  /** Where this instance listens, e.g. http://127.0.0.1:40123 (the issuer is the proxy's URL). */
  url: string;
  child: ChildProcess;
  output(): string;
  /** SIGTERM, then SIGKILL after 5 s. */
  stop(): Promise<number>;
  /** SIGKILL at once, as a crashed machine; resolves when the process is gone. */
  kill(): Promise<void>;
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

function run(args: string[], env: NodeJS.ProcessEnv, input = ''): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN, ...args], { env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    child.stdin.end(input);
  });
}

async function startInstance(
  port: number,
  issuer: string,
  dataDir: string,
  env: NodeJS.ProcessEnv,
): Promise<Instance> {
  const child = spawn(
    process.execPath,
    [MAIN, 'serve', '--port', String(port), '--issuer', issuer, '--data', dataDir],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } },
  );
  let out = '';
  const exited = new Promise<number>((resolve) => child.once('close', (code) => resolve(code ?? -1)));
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const alive = () => child.exitCode === null && child.signalCode === null;
  const stop = async () => {
    process.off('exit', killOnExit);
    if (!alive()) return exited;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    const code = await exited;
    clearTimeout(timer);
    return code;
  };
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`gatehouse serve did not start within 60 s:\n${out}`)),
      60_000,
    );
    const onData = (d: Buffer) => {
      out += d;
      if (/Issuer \(authorization server\):/.test(out)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`gatehouse serve exited (${code}) before listening:\n${out}`));
    });
  }).catch(async (err) => {
    await stop();
    throw err;
  });
  return {
    url: `http://127.0.0.1:${port}`,
    child,
    output: () => out,
    stop,
    async kill() {
      process.off('exit', killOnExit);
      if (alive()) child.kill('SIGKILL');
      await exited;
    },
  };
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
      ports.map((port, i) => startInstance(port, issuer, join(options.dir, `instance-${i}`), env)),
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
    admin: (args, input) => run([...args, '--data', join(options.dir, 'admin')], env, input),
    async stop() {
      await Promise.all(instances.map((i) => i.stop()));
      await proxy.close();
    },
  };
}

import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/**
 * The one place tests spawn the `gatehouse` CLI: e2e, conformance, the CLI's own tests and the
 * PostgreSQL admin tests all run it through these functions, with the same Node as the tests
 * (Node 24, type stripping).
 */
const MAIN = fileURLToPath(new URL('../../packages/cli/src/main.ts', import.meta.url));

/** The line `gatehouse serve` prints once it listens. */
const ISSUER_LINE = /Issuer \(authorization server\):\s+(http:\/\/127\.0\.0\.1:\d+)/;

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** `env` on top of this process's environment (undefined: inherit it as it is). */
const environment = (env?: NodeJS.ProcessEnv) => (env ? { ...process.env, ...env } : undefined);

/** Runs `gatehouse …` as an administrator would, with `input` on stdin and `env` added. */
export function gatehouse(args: string[], input = '', env?: NodeJS.ProcessEnv): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN, ...args], { stdio: 'pipe', env: environment(env) });
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

async function ok(args: string[], input = ''): Promise<string> {
  const result = await gatehouse(args, input);
  if (result.code !== 0) {
    throw new Error(`gatehouse ${args.join(' ')} exited ${result.code}: ${result.stderr || result.stdout}`);
  }
  return result.stdout;
}

/** `echo PASSWORD | gatehouse users add NAME --password-stdin --data DIR` */
export async function addUser(dataDir: string, username: string, password: string): Promise<void> {
  await ok(['users', 'add', username, '--password-stdin', '--data', dataDir], `${password}\n`);
}

export interface ClientOptions {
  name: string;
  redirectUris: string[];
  confidential?: boolean;
  scope?: string;
}

/** `gatehouse clients add … --json`: the new client's id (and secret, for confidential clients). */
export async function addClient(
  dataDir: string,
  options: ClientOptions,
): Promise<{ client_id: string; client_secret?: string }> {
  const args = ['clients', 'add', '--name', options.name, '--json', '--data', dataDir];
  for (const uri of options.redirectUris) args.push('--redirect-uri', uri);
  if (options.confidential) args.push('--confidential');
  if (options.scope !== undefined) args.push('--scope', options.scope);
  return JSON.parse(await ok(args));
}

/** A long-running `gatehouse …` child process. */
export interface GatehouseProcess {
  child: ChildProcess;
  /** Everything the process printed so far, stdout and stderr interleaved. */
  output(): string;
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit code once the process has ended by itself or been stopped. */
  exited: Promise<number>;
  /** Resolves with the first match of `pattern` in the output; rejects if the process exits first. */
  waitForOutput(pattern: RegExp, timeoutMs: number): Promise<RegExpExecArray>;
  /** SIGTERM, then SIGKILL if it has not exited within 5 s; resolves with the exit code. */
  stop(): Promise<number>;
  /** SIGKILL at once, as a crashed machine; resolves when the process is gone. */
  kill(): Promise<void>;
}

/**
 * Starts a long-running `gatehouse …` (serve, audit tail --follow) and collects its output.
 * The child is killed if the test process exits first, so no process outlives a failed test.
 */
export function start(args: string[], env?: NodeJS.ProcessEnv): GatehouseProcess {
  const child = spawn(process.execPath, [MAIN, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: environment(env),
  });
  let out = '';
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => {
    out += d;
    stdout += d;
  });
  child.stderr.on('data', (d: Buffer) => {
    out += d;
    stderr += d;
  });
  const exited = new Promise<number>((resolve) => child.once('close', (code) => resolve(code ?? -1)));
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const alive = () => child.exitCode === null && child.signalCode === null;
  const what = `gatehouse ${args[0] ?? ''}`;
  return {
    child,
    output: () => out,
    stdout: () => stdout,
    stderr: () => stderr,
    exited,
    waitForOutput: (pattern, timeoutMs) =>
      new Promise((resolve, reject) => {
        const check = () => {
          const match = pattern.exec(out);
          if (!match) return;
          clear();
          resolve(match);
        };
        const timer = setTimeout(() => {
          clear();
          reject(new Error(`${what} printed no ${pattern} within ${timeoutMs} ms:\n${out}`));
        }, timeoutMs);
        const clear = () => {
          clearTimeout(timer);
          child.stdout.off('data', check);
          child.stderr.off('data', check);
        };
        child.stdout.on('data', check);
        child.stderr.on('data', check);
        void exited.then((code) => {
          clear();
          reject(new Error(`${what} exited (${code}) before printing ${pattern}:\n${out}`));
        });
        check();
      }),
    async stop() {
      process.off('exit', killOnExit);
      if (!alive()) return exited;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
    async kill() {
      process.off('exit', killOnExit);
      if (alive()) child.kill('SIGKILL');
      await exited;
    },
  };
}

export interface ServeOptions {
  /** How long to wait for the issuer line (default 15 s). */
  timeoutMs?: number;
  /** Default 0: any free port. */
  port?: number;
  /** `--issuer`, when the public URL is not the listening address (e.g. behind a proxy). */
  issuer?: string;
  /** `--config FILE`: a configuration file whose mcpServers the gateway serves. */
  config?: string;
  env?: NodeJS.ProcessEnv;
}

export interface RunningGatehouse extends GatehouseProcess {
  issuer: string;
}

/**
 * `gatehouse serve --port 0 --data DIR` as a child process; resolves once it prints its issuer
 * (and stops it if it never does).
 */
export async function serve(dataDir: string, options: ServeOptions = {}): Promise<RunningGatehouse> {
  const args = ['serve', '--port', String(options.port ?? 0)];
  if (options.issuer !== undefined) args.push('--issuer', options.issuer);
  if (options.config !== undefined) args.push('--config', options.config);
  const server = start([...args, '--data', dataDir], options.env);
  try {
    // Generous: the first start in a fresh checkout compiles every module while other tests run.
    const [, issuer] = await server.waitForOutput(ISSUER_LINE, options.timeoutMs ?? 45_000);
    return { ...server, issuer: issuer as string };
  } catch (err) {
    await server.stop();
    throw err;
  }
}

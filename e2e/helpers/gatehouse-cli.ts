import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The CLI entry point, run with the same Node as the tests (Node 24, type stripping). */
const MAIN = fileURLToPath(new URL('../../packages/cli/src/main.ts', import.meta.url));

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `gatehouse …` as an administrator would, with `input` on stdin. */
export function gatehouse(args: string[], input = ''): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN, ...args], { stdio: 'pipe' });
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

export interface RunningGatehouse {
  issuer: string;
  child: ChildProcess;
  /** Everything the process printed so far. */
  output(): string;
  /** SIGTERM, then SIGKILL if it has not exited within 5 s; resolves with the exit code. */
  stop(): Promise<number>;
}

/**
 * `gatehouse serve --port 0 --data DIR` as a child process; resolves once it prints its issuer.
 * The child is killed if the test process exits first, so no server outlives a failed test.
 */
export async function serve(dataDir: string, timeoutMs = 15_000): Promise<RunningGatehouse> {
  const child = spawn(process.execPath, [MAIN, 'serve', '--port', '0', '--data', dataDir], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const exited = new Promise<number>((resolve) => child.once('close', (code) => resolve(code ?? -1)));
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const stop = async () => {
    process.off('exit', killOnExit);
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    }
    return exited;
  };
  const issuer = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new Error(`gatehouse serve printed no issuer within ${timeoutMs} ms:\n${out}`));
    }, timeoutMs);
    const onData = (d: Buffer) => {
      out += d;
      const match = /Issuer \(authorization server\):\s+(http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (match) {
        clearTimeout(timer);
        resolve(match[1] as string);
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
  return { issuer, child, output: () => out, stop };
}

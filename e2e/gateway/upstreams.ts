import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Real MCP servers from npm, the upstreams of the gateway's end-to-end tests and benchmark: the
 * official filesystem server (stdio), the official "everything" server (stdio and Streamable
 * HTTP), a PostgreSQL server (stdio), and Gatehouse's own demo over stdio. Paths are resolved
 * from the installed packages, so a test runs exactly what `npm install` put there.
 */
const require = createRequire(import.meta.url);
const packageDir = (name: string) => dirname(require.resolve(`${name}/package.json`));

/** `mcp-server-filesystem <allowed folder…>` */
export const FILESYSTEM_SERVER = join(packageDir('@modelcontextprotocol/server-filesystem'), 'dist/index.js');
/** `mcp-server-everything [stdio|streamableHttp]` */
export const EVERYTHING_SERVER = join(packageDir('@modelcontextprotocol/server-everything'), 'dist/index.js');
/** `postgres-mcp --connection-string URL` (or POSTGRES_CONNECTION_STRING) */
export const POSTGRES_SERVER = join(packageDir('@henkey/postgres-mcp-server'), 'build/index.js');
/** Gatehouse's demo over stdio: `stdio.ts --data DIR` */
export const DEMO_STDIO_SERVER = fileURLToPath(
  new URL('../../packages/demo-mcp/src/stdio.ts', import.meta.url),
);

const LOOPBACK_ONLY = fileURLToPath(new URL('./loopback-only.ts', import.meta.url));

export interface HttpUpstream {
  /** `http://127.0.0.1:<port>/mcp` */
  url: string;
  pid: number;
  stop(): Promise<void>;
}

/**
 * server-everything's Streamable HTTP entry as its own process, on a free loopback port (it
 * would listen on every interface; the preload keeps it on 127.0.0.1). Resolves once it listens.
 */
export async function startEverythingHttp(): Promise<HttpUpstream> {
  const child = spawn(process.execPath, ['--import', LOOPBACK_ONLY, EVERYTHING_SERVER, 'streamableHttp'], {
    env: { PATH: process.env.PATH ?? '', PORT: '0' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  let stderr = '';
  const port = await new Promise<string>((resolve, reject) => {
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk;
      const match = /loopback-only: listening on (\d+)/.exec(stderr);
      if (match) resolve(match[1] as string);
    });
    child.once('exit', (code) => reject(new Error(`server-everything exited (${code}):\n${stderr}`)));
  });
  return {
    url: `http://127.0.0.1:${port}/mcp`,
    pid: child.pid as number,
    async stop() {
      process.off('exit', killOnExit);
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      child.kill('SIGKILL');
      await exited;
    },
  };
}

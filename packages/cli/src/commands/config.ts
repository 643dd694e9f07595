import { parseArgs } from 'node:util';
import { ConfigError, type GatehouseConfig, loadConfig } from '@gatehouse/gateway';
import { UsageError } from '../output.ts';

export const USAGE = `Usage: gatehouse config check FILE

Validates a Gatehouse configuration file (e.g. gatehouse.json) without starting anything:
JSON, known keys only, every value of the expected kind, and every \${env:NAME} reference
set in this environment. Prints a one-line summary and exits 0, or prints each problem on its
own line (file: key path: what is expected) and exits 1.

Every key and its default: docs/configuration.md.`;

/** `gatehouse config check FILE`: the file's problems, one per line, or a one-line summary. */
export async function run(args: string[]): Promise<number> {
  const { positionals } = parseArgs({ args, allowPositionals: true, options: {} });
  const [verb, file, ...extra] = positionals;
  if (verb !== 'check' || file === undefined || extra.length) throw new UsageError(USAGE);
  let config: GatehouseConfig;
  try {
    config = loadConfig(file);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`${err.message}\n`);
    return 1;
  }
  process.stdout.write(`${summary(file, config)}\n`);
  return 0;
}

/** `gatehouse.json: valid; 2 MCP servers: filesystem (stdio, per-user), github (http)`. */
function summary(file: string, config: GatehouseConfig): string {
  const servers = Object.entries(config.mcpServers ?? {}).map(([name, server]) =>
    server.url !== undefined ? `${name} (http)` : `${name} (stdio, ${server.process?.mode ?? 'shared'})`,
  );
  const count = servers.length === 1 ? '1 MCP server' : `${servers.length} MCP servers`;
  return `${file}: valid; ${count}${servers.length ? `: ${servers.join(', ')}` : ''}`;
}

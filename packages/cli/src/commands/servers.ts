import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { GatehouseConfig } from '@gatehouse/gateway';
import { CONFIG_OPTION, findConfigFile, readConfigFile } from '../config-file.ts';
import { DEFAULT_DATA_DIR } from '../data.ts';
import { printJson, UsageError } from '../output.ts';
import { HEARTBEAT_MS, isAlive, readStatusFile, type ServerStatus, STATUS_FILE } from '../servers-status.ts';

export const USAGE = `Usage: gatehouse servers [--config FILE] [--data DIR] [--json]

Lists the MCP servers the gateway protects: their URL, transport, state, running processes and
last error, as the running \`gatehouse serve\` reports them (in <data>/${STATUS_FILE}, every few
seconds). When nothing is serving from the data folder, lists the configured servers instead.

${CONFIG_OPTION}
  --data DIR      the data folder \`gatehouse serve\` uses (default: the configuration's data,
                  else .gatehouse, or GATEHOUSE_DATA)
  --json          the report as JSON`;

/** A report older than this comes from a server that is stuck or gone. */
const STALE_MS = 6 * HEARTBEAT_MS;

/** One row: a server's name, where it is served, and its state. */
interface Row extends ServerStatus {
  url: string;
  state: 'running' | 'idle' | 'failing' | 'stopped';
}

/** `gatehouse servers`: the gateway's upstreams and how they are doing. */
export async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { config: { type: 'string' }, data: { type: 'string' }, json: { type: 'boolean' } },
  });
  if (positionals.length) throw new UsageError(USAGE);
  const file = findConfigFile(values.config);
  const config = file === undefined ? undefined : readConfigFile(file);
  const data = resolve(values.data ?? (process.env.GATEHOUSE_DATA || config?.data || DEFAULT_DATA_DIR));
  const report = readStatusFile(data);
  const live = report !== undefined && isAlive(report.pid) && Date.now() - report.time < STALE_MS;

  if (!live) {
    if (!config) {
      throw new UsageError(
        `nothing is serving from ${data} and there is no configuration file to list; ` +
          'name one with --config FILE, or the data folder of a running gatehouse serve with --data DIR',
      );
    }
    const rows = configured(config);
    if (values.json) printJson({ running: false, config: file, servers: rows });
    else {
      process.stdout.write(`Gatehouse is not running from ${data}. Configured in ${file}:\n`);
      print(rows);
    }
    return 0;
  }
  const rows: Row[] = report.servers.map((status) => ({ ...status, state: stateOf(status) }));
  if (values.json)
    printJson({ running: true, pid: report.pid, issuer: report.issuer, time: report.time, servers: rows });
  else {
    const age = Math.max(0, Math.round((Date.now() - report.time) / 1000));
    process.stdout.write(
      `Gatehouse is running at ${report.issuer} (pid ${report.pid}, reported ${age} s ago):\n`,
    );
    print(rows);
  }
  return 0;
}

/** Running processes or connections; none, after an error that has not been followed by success; or none at all. */
function stateOf(status: ServerStatus): Row['state'] {
  if (status.running > 0) return 'running';
  return status.lastError ? 'failing' : 'idle';
}

/** The configured servers, as rows of a gateway that is not running. */
function configured(config: GatehouseConfig): Row[] {
  return Object.entries(config.mcpServers ?? {}).map(([name, server]) => ({
    server: name,
    url: `/mcp/${name}`,
    transport: server.url !== undefined ? 'http' : 'stdio',
    ...(server.url === undefined ? { mode: server.process?.mode ?? 'shared' } : {}),
    running: 0,
    state: 'stopped',
  }));
}

function print(rows: Row[]): void {
  if (!rows.length) {
    process.stdout.write('  (no MCP servers configured)\n');
    return;
  }
  const table = [
    ['NAME', 'URL', 'TRANSPORT', 'STATE', 'PROCESSES', 'LAST ERROR'],
    ...rows.map((row) => [
      row.server,
      row.url,
      row.mode ? `${row.transport} (${row.mode})` : row.transport,
      row.state,
      String(row.running),
      row.lastError ? `${when(row.lastErrorAt)}${oneLine(row.lastError)}` : '-',
    ]),
  ];
  const widths =
    table[0]?.map((_, i) => Math.max(...table.map((cells) => (cells[i] as string).length))) ?? [];
  for (const cells of table)
    process.stdout.write(
      `  ${cells.map((cell, i) => (i < cells.length - 1 ? cell.padEnd(widths[i] as number) : cell)).join('  ')}\n`,
    );
}

const when = (at: number | undefined) => (at ? `${new Date(at).toISOString()} ` : '');
/** An upstream's error may span lines (a stack from its stderr); the table keeps one. */
const oneLine = (text: string) => text.replace(/\s+/g, ' ').slice(0, 200);

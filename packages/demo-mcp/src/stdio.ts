#!/usr/bin/env node
/**
 * The demo MCP server over stdio, for MCP clients and gateways that start servers as processes
 * (e.g. an `mcpServers` entry of a Gatehouse config, see examples/gatehouse.json):
 *
 *   node packages/demo-mcp/src/stdio.ts --data DIR      (or GATEHOUSE_DEMO_DATA=DIR)
 *
 * Nothing here checks tokens: a stdio server trusts the process that started it. Put it behind
 * `gatehouse serve --config` to give it OAuth, per-tool scopes and an audit trail.
 */
import { parseArgs } from 'node:util';
import { serveStdio } from '@modelcontextprotocol/server/stdio';
import { tableUri } from './resources.ts';
import { buildDemoServer, openDemoData } from './server.ts';

const USAGE = 'usage: stdio.ts --data DIR (or the environment variable GATEHOUSE_DEMO_DATA)';

const { values } = parseArgs({ options: { data: { type: 'string' } }, strict: true });
const dataDir = values.data ?? process.env.GATEHOUSE_DEMO_DATA;
if (!dataDir) {
  // stdout carries JSON-RPC only; everything for people goes to stderr.
  process.stderr.write(`${USAGE}\n`);
  process.exit(2);
}

const { sandboxDir, database } = openDemoData(dataDir);
/** URIs the client subscribed to (2025 revisions): only those get `notifications/resources/updated`. */
const subscribed = new Set<string>();

const handle = serveStdio(
  () => {
    const server = buildDemoServer({
      sandboxDir,
      database,
      onTablesChanged: (tables) => {
        for (const uri of tables.map(tableUri)) {
          if (subscribed.has(uri)) void server.server.sendResourceUpdated({ uri }).catch(() => {});
        }
      },
    });
    server.server.setRequestHandler('resources/subscribe', async (request) => {
      subscribed.add(request.params.uri);
      return {};
    });
    server.server.setRequestHandler('resources/unsubscribe', async (request) => {
      subscribed.delete(request.params.uri);
      return {};
    });
    return server;
  },
  { onerror: (error) => process.stderr.write(`demo-mcp: ${error.message}\n`) },
);

/** The MCP stdio binding: a server exits once its standard input is closed (or on a signal). */
let closing = false;
async function shutdown(): Promise<void> {
  if (closing) return;
  closing = true;
  await handle.close().catch(() => {});
  database.close();
}
process.stdin.once('close', () => void shutdown());
process.stdin.once('end', () => void shutdown());
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void shutdown());

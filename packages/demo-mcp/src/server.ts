import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { hasScope } from '@gatehouse/core';
import { type AuthInfo, promptScope, toolScope } from '@gatehouse/resource';
import { createMcpHandler, McpServer } from '@modelcontextprotocol/server';
import { DemoDatabase, type DemoDatabaseOptions } from './database.ts';
import { registerDatabaseTools } from './database-tools.ts';
import { registerFilesystemTools } from './filesystem-tools.ts';
import { demoManifest } from './manifest.ts';
import { registerPrompts } from './prompts.ts';
import { registerTableResources, tableUri } from './resources.ts';

/** The demo's data folder: `sandbox/` (with a README on first use) and `demo.sqlite`. */
export function openDemoData(
  dataDir: string,
  databaseOptions?: DemoDatabaseOptions,
): { sandboxDir: string; database: DemoDatabase } {
  const sandboxDir = path.resolve(dataDir, 'sandbox');
  mkdirSync(sandboxDir, { recursive: true });
  const readme = path.join(sandboxDir, 'README.md');
  if (!existsSync(readme)) {
    writeFileSync(
      readme,
      '# Sandbox\n\nThe demo filesystem tools can read and write only inside this folder.\n',
    );
  }
  return { sandboxDir, database: new DemoDatabase(path.resolve(dataDir, 'demo.sqlite'), databaseOptions) };
}

/**
 * One SDK server instance with the demo's tools, table resources and prompts: the HTTP handler
 * builds one per request (listing only what the token may use), the stdio entry one per process.
 */
export function buildDemoServer(parts: {
  sandboxDir: string;
  database: DemoDatabase;
  mayCall?: (tool: string) => boolean;
  mayGet?: (prompt: string) => boolean;
  onTablesChanged?: (tables: string[]) => void;
}): McpServer {
  const everything = () => true;
  const server = new McpServer(
    { name: 'gatehouse-demo', version: '0.1.0' },
    { capabilities: { resources: { subscribe: true }, logging: {} } },
  );
  registerFilesystemTools(server, parts.sandboxDir, parts.mayCall ?? everything);
  registerDatabaseTools(
    server,
    parts.database,
    parts.mayCall ?? everything,
    parts.onTablesChanged ?? (() => {}),
  );
  registerTableResources(server, parts.database);
  registerPrompts(server, parts.database, parts.mayGet ?? everything);
  // A token that may use none of the tools (or prompts) still gets an empty list, not "method not
  // found": the SDK declares a capability only once something is registered under it.
  const mayCall = parts.mayCall ?? everything;
  const mayGet = parts.mayGet ?? everything;
  if (!Object.keys(demoManifest.tools).some(mayCall)) {
    server.server.registerCapabilities({ tools: {} });
    server.server.setRequestHandler('tools/list', async () => ({ tools: [] }));
  }
  if (!Object.keys(demoManifest.prompts).some(mayGet)) {
    server.server.registerCapabilities({ prompts: {} });
    server.server.setRequestHandler('prompts/list', async () => ({ prompts: [] }));
  }
  return server;
}

export interface DemoMcpServer {
  /**
   * The MCP endpoint (streamable HTTP, stateless): 2026-07-28 and the 2025 revisions. `parsedBody`
   * is the body already parsed (by the guard), so that the SDK neither clones nor parses it again.
   */
  fetch(
    request: Request,
    options?: { authInfo?: AuthInfo | undefined; parsedBody?: unknown },
  ): Promise<Response>;
  /** What each tool, resource and prompt needs; give it to `createGuard`. */
  manifest: typeof demoManifest;
  /** The folder the filesystem tools are confined to. */
  sandboxDir: string;
  database: DemoDatabase;
  close(): Promise<void>;
}

/**
 * The demo MCP server: filesystem tools in `<dataDir>/sandbox`, database tools and table resources
 * on `<dataDir>/demo.sqlite`, two prompts. Built on the official v2 SDK's per-request handler.
 * `tools/list` shows only the tools the caller's token may run.
 *
 * @example
 * const demo = createDemoMcpServer({ dataDir: '.gatehouse/demo' });
 * const response = await demo.fetch(request, { authInfo });
 */
export function createDemoMcpServer(options: {
  dataDir: string;
  /** The SQL tools' deadline and process count (defaults: 5 s, 2 processes). */
  database?: DemoDatabaseOptions;
}): DemoMcpServer {
  const { sandboxDir, database } = openDemoData(options.dataDir, options.database);

  const handler = createMcpHandler(({ authInfo }) => {
    const scopes = authInfo?.scopes;
    const server = buildDemoServer({
      sandboxDir,
      database,
      mayCall: (tool) => !scopes || hasScope(scopes, toolScope(demoManifest, tool)),
      mayGet: (prompt) => !scopes || hasScope(scopes, promptScope(demoManifest, prompt)),
      onTablesChanged: (tables) => {
        for (const table of tables) handler.notify.resourceUpdated(tableUri(table));
      },
    });
    // 2025-era clients subscribe per resource; stateless serving has no stream to notify on, so
    // the subscription is acknowledged and updates reach 2026-07-28 `subscriptions/listen` streams.
    server.server.setRequestHandler('resources/subscribe', async () => ({}));
    server.server.setRequestHandler('resources/unsubscribe', async () => ({}));
    return server;
  });

  return {
    fetch: (request, opts) =>
      handler.fetch(request, {
        ...(opts?.authInfo ? { authInfo: opts.authInfo } : {}),
        ...(opts?.parsedBody !== undefined ? { parsedBody: opts.parsedBody } : {}),
      }),
    manifest: demoManifest,
    sandboxDir,
    database,
    async close() {
      await handler.close();
      database.close();
    },
  };
}

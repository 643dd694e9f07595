import type { RevocationSource } from '@gatehouse/core';
import { createGuard, type Guard } from '@gatehouse/resource';
import type { DemoDatabaseOptions } from './database.ts';
import { createDemoMcpServer, type DemoMcpServer } from './server.ts';

export interface ProtectDemoOptions {
  dataDir: string;
  /** The SQL tools' deadline and process count (defaults: 5 s, 2 processes). */
  database?: DemoDatabaseOptions;
  /** The MCP endpoint's URL, e.g. `http://127.0.0.1:8080/mcp`. */
  resource: string;
  /** Issuer(s) trusted to mint tokens for it. */
  authorizationServers: string[];
  /** The AS's in-process revocations, when it runs in the same process. */
  revocations?: RevocationSource;
  /**
   * The 401 challenge's `scope` when the request names no operation that needs one: default every
   * scope of the manifest (for clients that cannot step up); a baseline such as
   * `['tools:list', 'resources:read', 'prompts:list']` leaves the rest to step-up. See
   * docs/least-privilege.md.
   */
  challengeScopes?: string[];
  /** Follow the AS's revocation feed (another process). */
  revocationFeed?: boolean | { url: string };
  allowedOrigins?: string[];
  fetch?: typeof fetch;
  now?: () => number;
}

/**
 * The demo MCP server behind the guard: what an MCP server author writes, in three lines.
 *
 * @example
 * const { fetch } = protectDemo({ dataDir, resource: `${issuer}/mcp`, authorizationServers: [issuer] });
 */
export function protectDemo(options: ProtectDemoOptions): {
  fetch: (request: Request) => Promise<Response>;
  guard: Guard;
  demo: DemoMcpServer;
  close(): Promise<void>;
} {
  const { dataDir, database, ...guardOptions } = options;
  // 1. the MCP server, 2. a guard that knows what each tool needs, 3. the guard in front.
  const demo = createDemoMcpServer({ dataDir, ...(database ? { database } : {}) });
  const guard = createGuard({ ...guardOptions, manifest: demo.manifest });
  // The guard has parsed the body already: the SDK takes it as is instead of parsing it again.
  const fetch = guard.wrap((request, auth, { parsedBody }) =>
    demo.fetch(request, { authInfo: auth, parsedBody }),
  );
  return {
    fetch,
    guard,
    demo,
    async close() {
      guard.close();
      await demo.close();
    },
  };
}

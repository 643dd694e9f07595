/**
 * `createGateway`: each configured MCP server becomes a protected resource at `<issuer>/mcp/<name>`
 * with its own guard (audience = that URL, so a token for one server is refused by another), and
 * behind it a bridge to the upstream through the pool.
 *
 * ```
 * client ─▶ guard (token, audience, scope of every message) ─▶ bridge (SDK server side, filtered
 *           │ 403: audited as denied                           lists, audit) ─▶ pool ─▶ upstream
 * ```
 */
import type { RevocationSource, ScopeDefinition } from '@gatehouse/core';
import { errorResponse, OAuthError, readBodyBytes, utf8 } from '@gatehouse/core';
import { type AuthInfo, createGuard, type Guard, readMcpOperations } from '@gatehouse/resource';
import { auditedCall, callEvent, ephemeralMac, type GatewayAuditEvent, type Mac } from './audit.ts';
import { createBridge } from './bridge/bridge.ts';
import { ToolCatalogue } from './bridge/catalogue.ts';
import type { McpServerConfig } from './config/schema.ts';
import { serverDefaults } from './config/schema.ts';
import { identityClaims, identityFetch } from './identity.ts';
import {
  serverChallengeScopes,
  serverManifest,
  serverScopeDefinitions,
  serverScopesSupported,
  titleOf,
  toolScopeFor,
} from './scopes.ts';
import {
  type CredentialRejected,
  type Credentials,
  UpstreamPool,
  type UpstreamStatus,
} from './upstream/pool.ts';

export type { GatewayAuditEvent } from './audit.ts';

/** The largest MCP request body read (the MCP SDK's own default, as for the demo). */
const MAX_BODY_BYTES = 4 * 1024 * 1024;

export interface GatewayServer {
  name: string;
  /** `/mcp/<name>` */
  path: string;
  /** The RFC 8707 resource: issuer + path. */
  resource: string;
  /** The guarded MCP endpoint and its RFC 9728 metadata. */
  fetch(request: Request): Promise<Response>;
}

export interface Gateway {
  servers: readonly GatewayServer[];
  /**
   * Scope catalogue entries the AS must offer: `tools:execute:<name>` per server and any
   * read-only or override scopes, each with a sentence built from the server's title.
   */
  scopes: ScopeDefinition[];
  /**
   * The tools a gateway resource offers and the scope each needs, for the consent page (from the
   * upstream's `tools/list`, cached). Empty for an unknown resource, or a per-user server no one
   * has used yet (listing it would start a process for no one).
   */
  toolsOf(resource: string): Promise<Array<{ name: string; scope: string }>>;
  status(): UpstreamStatus[];
  close(): Promise<void>;
}

export interface GatewayOptions {
  /** The AS's issuer; servers are at `<issuer>/mcp/<name>`. */
  issuer: string;
  servers: Record<string, McpServerConfig>;
  /** The AS's in-process revocations: a revoked token is refused on the next request. */
  revocations?: RevocationSource;
  /** How the guards reach the AS (metadata, JWKS); in one process, the AS's own `fetch`. */
  fetch?: typeof fetch;
  /** Receives every `tools/call`, `resources/read` and `prompts/get`, allowed or not. */
  audit(event: GatewayAuditEvent): void;
  /**
   * A MAC under a key derived from the master secret (the AS's `secrets.mac`), for the keyed hash
   * of arguments of servers with `audit.arguments: "hashed"` and the request state of a connect
   * elicitation, so both hold across restarts and instances. Default: HMAC under a random key of
   * this process.
   */
  mac?: Mac;
  /**
   * The token vault, for servers with a `connection`: the user's current upstream token, or the
   * page where they connect (`missing`) or reconnect (`broken`) it. Asked on every upstream call;
   * the token goes to the upstream only (`Authorization: Bearer` over HTTP, the connection's `env`
   * variable of the user's own stdio process), never to the MCP client, a log or another user.
   */
  credentials?: Credentials;
  /**
   * Tells the vault that an upstream refused a user's token (HTTP 401), so that it renews the
   * token: the call is then tried once more; otherwise the user is sent to reconnect. Without it, a refusal is reported as the upstream refusing the gateway.
   */
  credentialRejected?: CredentialRejected;
  /** The configuration's `connections`, by id (for `env`, the variable a stdio process gets the token in). */
  connections?: Record<string, { env?: string | undefined }>;
  /** Signs an identity assertion (a JWT with Gatehouse's key) for `identityAssertion` servers. */
  signIdentityAssertion?(claims: Record<string, unknown>): Promise<string>;
  /** Upstream stderr and pool events, by server name. */
  log?: (server: string, line: string) => void;
  /** Milliseconds since the epoch; inject to freeze time in tests. */
  now?: () => number;
}

/**
 * Creates the gateway. Mount each server with the AS's router
 * (`mountMcpServer(as, server.path, server.fetch, { rootMetadata: false })`) and give the AS
 * `resources` = the servers' resources and `scopes` = `defaultScopes` + `gateway.scopes`.
 *
 * @example
 * const gateway = createGateway({ issuer, servers: config.mcpServers, revocations: as.revocations,
 *   audit: (e) => as.context.audit(e) });
 * for (const s of gateway.servers) mountMcpServer(as, s.path, s.fetch, { rootMetadata: false });
 */
export function createGateway(options: GatewayOptions): Gateway {
  const issuer = options.issuer.replace(/\/$/, '');
  const mac = options.mac ?? ephemeralMac();
  const macArguments = (canonical: string) => mac('audit-arguments', canonical);
  const now = options.now ?? Date.now;
  const pool = new UpstreamPool({
    servers: options.servers,
    ...(options.log ? { log: options.log } : {}),
    fetch: identityFetch(globalThis.fetch),
    ...(options.credentials ? { credentials: options.credentials } : {}),
    ...(options.credentialRejected ? { credentialRejected: options.credentialRejected } : {}),
    connections: new Map(Object.entries(options.connections ?? {})),
  });
  const parts: Array<{ server: GatewayServer; guard: Guard; close(): Promise<void> }> = [];
  /** By resource, for consent: what each server's upstream lists. */
  const toolLists = new Map<string, () => Promise<Array<{ name: string; scope: string }>>>();

  for (const [name, config] of Object.entries(options.servers)) {
    const path = `/mcp/${name}`;
    const resource = `${issuer}${path}`;
    const catalogue = new ToolCatalogue();
    const manifest = serverManifest(name, config, (tool) => catalogue.get(tool));
    const challengeScopes = serverChallengeScopes(config);
    const guard = createGuard({
      resource,
      authorizationServers: [options.issuer],
      manifest,
      scopesSupported: serverScopesSupported(name, config),
      resourceName: titleOf(name, config),
      ...(challengeScopes ? { challengeScopes } : {}),
      ...(options.revocations ? { revocations: options.revocations } : {}),
      ...(options.fetch ? { fetch: options.fetch } : {}),
      ...(options.now ? { now: options.now } : {}),
      onError: (err) => options.log?.(name, `guard: ${describe(err)}`),
    });
    const upstreamUrl = config.url;
    const sign = options.signIdentityAssertion?.bind(options);
    if (config.identityAssertion === true && (!upstreamUrl || !sign))
      throw new TypeError(`mcpServers.${name}.identityAssertion needs a url and signIdentityAssertion`);
    const hashed = (config.audit?.arguments ?? serverDefaults.audit.arguments) === 'hashed';
    const argumentsMac = hashed ? macArguments : undefined;
    const bridge = createBridge({
      server: name,
      config,
      manifest,
      catalogue,
      upstreams: pool,
      audit: options.audit,
      argumentsMac,
      mac,
      ...(config.identityAssertion === true && upstreamUrl && sign
        ? {
            identityAssertion: (auth: AuthInfo) =>
              sign(identityClaims(issuer, auth, upstreamUrl, Math.floor(now() / 1000))),
          }
        : {}),
      onError: (err) => options.log?.(name, `bridge: ${describe(err)}`),
    });

    /** A 403 from the guard is a denied call: recorded with who tried, like an allowed one. */
    async function auditDenied(request: Request, text: string, denied: Response): Promise<void> {
      if (!/insufficient_scope/.test(denied.headers.get('www-authenticate') ?? '')) return;
      let operations: ReturnType<typeof readMcpOperations>;
      try {
        operations = readMcpOperations(request.headers, text);
      } catch {
        return;
      }
      const calls = operations.map(auditedCall).filter((c) => c !== undefined);
      if (calls.length === 0) return;
      const auth = await guard.authenticate(request);
      const who = auth instanceof Response ? {} : { userId: auth.subject, clientId: auth.clientId };
      for (const call of calls)
        options.audit(
          callEvent({ server: name, call, outcome: 'denied', durationMs: 0, argumentsMac, ...who }),
        );
    }

    /**
     * With `readOnlyScope`, the guard's scope for a tool depends on the upstream's annotations:
     * learn them before the first `tools/call` is judged (until then, unknown tools need the
     * broader server scope, so nothing is let through on the read-only one).
     */
    async function learnToolsFirst(request: Request, text: string): Promise<void> {
      if (config.readOnlyScope !== true || catalogue.loaded || !text.includes('tools/call')) return;
      const auth = await guard.authenticate(request);
      if (auth instanceof Response) return;
      await bridge.loadTools(auth.subject, request.signal).catch((err) => {
        options.log?.(name, `could not list the tools: ${describe(err)}`);
      });
    }

    async function serve(request: Request): Promise<Response> {
      const served = guard.serveMetadata(request);
      if (served) return served;
      try {
        const bytes = await readBodyBytes(request, MAX_BODY_BYTES);
        const text = utf8(bytes);
        await learnToolsFirst(request, text);
        const result = await guard.check(request, text);
        if (result instanceof Response) {
          if (result.status === 403) await auditDenied(request, text, result);
          return result;
        }
        // The body is read and parsed: the SDK takes the parsed body instead of the stream.
        return await bridge.fetch(request, result);
      } catch (err) {
        if (err instanceof OAuthError && err.status === 413) return errorResponse(err);
        options.log?.(name, `request failed: ${describe(err)}`);
        return errorResponse(new OAuthError('server_error'));
      }
    }

    parts.push({
      server: { name, path, resource, fetch: serve },
      guard,
      close: () => bridge.close(),
    });
    toolLists.set(resource, async () => {
      // A per-user server (or one calling with each user's upstream token) has no process or
      // connection of its own to ask: only what its users have listed.
      const perUser = (config.process?.mode ?? serverDefaults.process.mode) === 'per-user';
      if (!perUser && !pool.needsCredential(name)) {
        const deadline = AbortSignal.timeout(config.timeoutMs ?? serverDefaults.timeoutMs);
        await bridge.loadTools('', deadline).catch((err) => {
          options.log?.(name, `could not list the tools: ${describe(err)}`);
        });
      }
      return catalogue.list().map((tool) => ({ name: tool.name, scope: toolScopeFor(name, config, tool) }));
    });
  }

  return {
    servers: parts.map((p) => p.server),
    scopes: Object.entries(options.servers).flatMap(([name, config]) => serverScopeDefinitions(name, config)),
    toolsOf: async (resource) => (await toolLists.get(resource)?.()) ?? [],
    status: () => pool.status(),
    async close() {
      for (const part of parts) part.guard.close();
      await Promise.all(parts.map((p) => p.close()));
      await pool.close();
    },
  };
}

/** One line about an error for the log: its name and message, never a stack. */
function describe(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}

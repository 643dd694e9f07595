/**
 * The bridge: the official MCP SDK's server side towards clients (`createMcpHandler`, every
 * revision it serves: 2025-era stateless requests and 2026-07-28 per-request envelopes with
 * `Mcp-Method`/`Mcp-Name`), forwarding each request through the SDK client the upstream pool hands
 * out for the caller. It runs behind the guard, which has already checked the token and the scope
 * of every message; here lists are filtered, calls audited, and failures made readable.
 */
import type { AuthInfo, GuardedRequest, McpScopeManifest } from '@gatehouse/resource';
import type { Client, RequestOptions, ServerCapabilities } from '@modelcontextprotocol/client';
import { createMcpHandler, isLegacyRequest, Server, type ServerContext } from '@modelcontextprotocol/server';
import {
  type ArgumentsMac,
  type AuditedCall,
  auditedCall,
  callEvent,
  type GatewayAuditEvent,
  type Mac,
} from '../audit.ts';
import type { McpServerConfig } from '../config/schema.ts';
import { serverDefaults } from '../config/schema.ts';
import { withIdentityAssertion } from '../identity.ts';
import { titleOf } from '../scopes.ts';
import { classifyFailure, UpstreamError } from '../upstream/errors.ts';
import { InFlightRequests } from './cancellation.ts';
import type { ToolCatalogue } from './catalogue.ts';
import { CONNECT_WAIT_MS, connectFirst, pollUntil } from './connect-first.ts';
import { asJsonRpcError, toolErrorResult, upstreamFailure } from './errors.ts';
import { listFilter } from './filter.ts';
import { progressTokenOf, TOOL_RESULT_AS_IS, upstreamParams, upstreamRequestOptions } from './forward.ts';
import { asksForProgress, serveAsJson } from './json-leg.ts';

/** Where the bridge gets a connected upstream client for a user (the gateway's `UpstreamPool`). */
export interface UpstreamClients {
  client(server: string, user: string, signal?: AbortSignal): Promise<Client>;
  /**
   * The upstream refused the user's own token on a request through `used` (the client, or the
   * error its start failed with): true when renewed (try once more); throws when they must reconnect.
   */
  credentialRejected?(server: string, user: string, used: object): Promise<boolean>;
}

export interface BridgeOptions {
  /** The server's configured name. */
  server: string;
  config: McpServerConfig;
  /** The guard's manifest for this server (for list filtering). */
  manifest: McpScopeManifest;
  catalogue: ToolCatalogue;
  upstreams: UpstreamClients;
  audit(event: GatewayAuditEvent): void;
  /** Set when the server's `audit.arguments` is `hashed`: the keyed hash its events carry. */
  argumentsMac?: ArgumentsMac | undefined;
  /** The gateway's keyed MAC, for the request state of a connect elicitation. */
  mac: Mac;
  /** The identity assertion for one call, for HTTP upstreams configured with `identityAssertion`. */
  identityAssertion?: (auth: AuthInfo) => Promise<string>;
  /** Failures of the SDK's serving (never carries the token). */
  onError?: (error: Error) => void;
  version?: string;
}

export interface Bridge {
  /** Serves one request that passed the guard. */
  fetch(request: Request, guarded: GuardedRequest): Promise<Response>;
  /** Lists the upstream's tools into the catalogue for `user`, unless already known. */
  loadTools(user: string, signal?: AbortSignal): Promise<void>;
  close(): Promise<void>;
}

type Params = Record<string, unknown> | undefined;
/** `client.request` for any spec method; results pass through untouched. */
type RawRequest = {
  (request: { method: string; params?: Params }, options?: RequestOptions): Promise<unknown>;
  (
    request: { method: string; params?: Params },
    schema: typeof TOOL_RESULT_AS_IS,
    options?: RequestOptions,
  ): Promise<unknown>;
};

/**
 * What the bridge offers when the upstream's own capabilities are not known yet (it could not be
 * reached): the three families, whose requests then fail with a sentence saying why.
 */
const FALLBACK_CAPABILITIES: ServerCapabilities = { tools: {}, resources: {}, prompts: {} };

/**
 * The upstream's capabilities as this bridge serves them: no `listChanged` or `subscribe` (the
 * per-request serving has no stream to push them on), no logging or tasks.
 */
function servedCapabilities(upstream: ServerCapabilities): ServerCapabilities {
  return {
    ...(upstream.tools ? { tools: {} } : {}),
    ...(upstream.resources ? { resources: {} } : {}),
    ...(upstream.prompts ? { prompts: {} } : {}),
    ...(upstream.completions ? { completions: {} } : {}),
  };
}

export function createBridge(options: BridgeOptions): Bridge {
  const { server: name, config, manifest, catalogue, upstreams } = options;
  const timeoutMs = config.timeoutMs ?? serverDefaults.timeoutMs;
  const transport = config.url ? 'http' : 'stdio';
  const inFlight = new InFlightRequests();
  // Learned from the first connection; the same for every user of a server.
  let upstreamInfo: { capabilities: ServerCapabilities; instructions?: string | undefined } | undefined;

  async function connect(auth: AuthInfo, signal?: AbortSignal): Promise<Client> {
    const client = await upstreams.client(name, auth.subject, signal);
    upstreamInfo ??= {
      capabilities: servedCapabilities(client.getServerCapabilities() ?? {}),
      instructions: client.getInstructions(),
    };
    return client;
  }

  /** Whether a failure is the upstream refusing (401) the user's own token, for a server with a `connection`. */
  function refusedUserToken(err: unknown): boolean {
    if (config.connection === undefined) return false;
    const failure = classifyFailure(name, transport, timeoutMs, err).error;
    return failure instanceof UpstreamError && failure.httpStatus === 401;
  }

  /** Calls waiting for a user to connect, by user: one poll of the vault however many wait. */
  const waits = new Map<string, Promise<boolean>>();

  /** Waits until the user's upstream account for this server is usable (true), or `signal` ends the wait. */
  function waitForConnection(auth: AuthInfo, signal: AbortSignal): Promise<boolean> {
    let shared = waits.get(auth.subject);
    if (!shared) {
      const connected = () =>
        connect(auth).then(
          () => true,
          (err: unknown) => {
            if (err instanceof UpstreamError && err.connectUrl !== undefined) return false;
            throw err;
          },
        );
      shared = pollUntil(connected, AbortSignal.timeout(CONNECT_WAIT_MS)).finally(() =>
        waits.delete(auth.subject),
      );
      waits.set(auth.subject, shared);
    }
    const ended = new Promise<boolean>((resolve) => {
      if (signal.aborted) resolve(false);
      else signal.addEventListener('abort', () => resolve(false), { once: true });
    });
    return Promise.race([shared, ended]);
  }

  /**
   * Forwards one request; `call` is set for the methods the audit trail records. The client's
   * cancellation is not an upstream failure: it is re-thrown as is (no one reads the answer).
   */
  async function forward(
    auth: AuthInfo,
    ctx: ServerContext,
    method: string,
    params: Params,
    call?: AuditedCall,
  ): Promise<unknown> {
    const started = performance.now();
    let outcome: 'allowed' | 'upstream_error' = 'allowed';
    const cancellation = inFlight.track(auth, ctx.mcpReq.id);
    const signal = AbortSignal.any([ctx.mcpReq.signal, cancellation.signal]);
    let used: object | undefined;
    const attempt = async () => {
      used = undefined;
      const client = await connect(auth, signal);
      used = client;
      const assertion = options.identityAssertion ? await options.identityAssertion(auth) : undefined;
      const upstream = upstreamRequestOptions({
        timeoutMs,
        signal,
        progressToken: progressTokenOf(params),
        notify: (n) => ctx.mcpReq.notify(n),
      });
      const request = client.request.bind(client) as RawRequest;
      const message = { method, params: upstreamParams(params) };
      const result = await withIdentityAssertion(assertion, () =>
        method === 'tools/call'
          ? request(message, TOOL_RESULT_AS_IS, upstream.options)
          : request(message, upstream.options),
      );
      await upstream.relayed();
      return result;
    };
    try {
      try {
        return await attempt();
      } catch (err) {
        // The upstream refused the user's own token (a server with a `connection`): the vault
        // renews it and the request is tried once more, or the user is told to reconnect.
        if (signal.aborted || !refusedUserToken(err)) throw err;
        if (!(await upstreams.credentialRejected?.(name, auth.subject, used ?? (err as object)))) throw err;
        return await attempt();
      }
    } catch (err) {
      if (signal.aborted) throw err;
      outcome = 'upstream_error';
      throw upstreamFailure(name, transport, timeoutMs, err);
    } finally {
      cancellation.done();
      if (call) {
        options.audit(
          callEvent({
            server: name,
            call,
            outcome,
            durationMs: performance.now() - started,
            argumentsMac: options.argumentsMac,
            userId: auth.subject,
            clientId: auth.clientId,
          }),
        );
      }
    }
  }

  /** Forwards a request whose failure is a JSON-RPC error. */
  async function forwardOrThrow(
    auth: AuthInfo,
    ctx: ServerContext,
    method: string,
    params: Params,
    call?: AuditedCall,
  ) {
    try {
      return await forward(auth, ctx, method, params, call);
    } catch (err) {
      throw err instanceof UpstreamError ? asJsonRpcError(err) : err;
    }
  }

  function buildServer(auth: AuthInfo): Server {
    const info = upstreamInfo ?? { capabilities: FALLBACK_CAPABILITIES };
    const server = new Server(
      {
        name: `gatehouse-gateway/${name}`,
        title: titleOf(name, config),
        version: options.version ?? '0.1.0',
      },
      { capabilities: info.capabilities, ...(info.instructions ? { instructions: info.instructions } : {}) },
    );
    const filter = listFilter({ server: name, config, manifest, scopes: auth.scopes });
    const caps = info.capabilities;
    // Handlers for any method name: results are the upstream's, passed on as they came.
    const on = server.setRequestHandler.bind(server) as (
      method: string,
      handler: (request: { params?: Params }, ctx: ServerContext) => Promise<unknown>,
    ) => void;

    if (caps.tools) {
      on('tools/list', async (request, ctx) => {
        const result = (await forwardOrThrow(auth, ctx, 'tools/list', request.params)) as ToolsPage;
        catalogue.learn(
          result.tools,
          request.params?.cursor === undefined && result.nextCursor === undefined,
        );
        return { ...result, tools: filter.tools(result.tools) };
      });
      on('tools/call', async (request, ctx) => {
        // The upstream could not run the tool: the model reads why, as the tool's result.
        const call = () =>
          forward(auth, ctx, 'tools/call', request.params, audited('tools/call', request.params)).catch(
            (err: unknown) => {
              if (err instanceof UpstreamError && err.connectUrl === undefined) return toolErrorResult(err);
              throw err;
            },
          );
        try {
          return await call();
        } catch (err) {
          // The user's upstream account is needed first: send them to connect it (connect-first.ts).
          if (!(err instanceof UpstreamError) || err.connectUrl === undefined) throw err;
          return connectFirst({
            failure: err as UpstreamError & { connectUrl: string },
            ctx,
            userId: auth.subject,
            mac: options.mac,
            waitForConnection: (signal) => waitForConnection(auth, signal),
            retry: call,
          });
        }
      });
    }
    if (caps.resources) {
      on('resources/list', async (request, ctx) => {
        const result = (await forwardOrThrow(auth, ctx, 'resources/list', request.params)) as {
          resources: Array<{ uri: string }>;
        };
        return { ...result, resources: filter.resources(result.resources) };
      });
      on('resources/templates/list', async (request, ctx) => {
        const result = (await forwardOrThrow(auth, ctx, 'resources/templates/list', request.params)) as {
          resourceTemplates: Array<{ uriTemplate: string }>;
        };
        return { ...result, resourceTemplates: filter.resourceTemplates(result.resourceTemplates) };
      });
      on('resources/read', (request, ctx) =>
        forwardOrThrow(
          auth,
          ctx,
          'resources/read',
          request.params,
          audited('resources/read', request.params),
        ),
      );
    }
    if (caps.prompts) {
      on('prompts/list', async (request, ctx) => {
        const result = (await forwardOrThrow(auth, ctx, 'prompts/list', request.params)) as {
          prompts: Array<{ name: string }>;
        };
        return { ...result, prompts: filter.prompts(result.prompts) };
      });
      on('prompts/get', (request, ctx) =>
        forwardOrThrow(auth, ctx, 'prompts/get', request.params, audited('prompts/get', request.params)),
      );
    }
    if (caps.completions) {
      on('completion/complete', (request, ctx) =>
        forwardOrThrow(auth, ctx, 'completion/complete', request.params),
      );
    }
    return server;
  }

  async function serverFor(auth: AuthInfo): Promise<Server> {
    if (!upstreamInfo) {
      // The first request learns what the upstream offers; if it cannot be reached, the
      // fallback capabilities let each request say so.
      await connect(auth).catch(() => undefined);
    }
    return buildServer(auth);
  }

  // The guard put its own AuthInfo here (a superset of the SDK's).
  const handler = createMcpHandler(({ authInfo }) => serverFor(authInfo as AuthInfo), {
    ...(options.onError ? { onerror: options.onError } : {}),
  });

  return {
    async fetch(request, guarded) {
      for (const op of guarded.operations)
        if (op.method === 'notifications/cancelled')
          inFlight.cancel(guarded.auth, op.params?.requestId, op.params?.reason);
      const body = guarded.parsedBody;
      if (
        request.method === 'POST' &&
        body !== undefined &&
        !asksForProgress(body) &&
        (await isLegacyRequest(request, body))
      ) {
        return serveAsJson(request, await serverFor(guarded.auth), {
          authInfo: guarded.auth,
          parsedBody: body,
        });
      }
      return handler.fetch(request, {
        authInfo: guarded.auth,
        ...(guarded.parsedBody !== undefined ? { parsedBody: guarded.parsedBody } : {}),
      });
    },
    async loadTools(user, signal) {
      await catalogue.load(async (cursor) => {
        const client = await upstreams.client(name, user, signal);
        const request = client.request.bind(client) as RawRequest;
        return (await request(
          { method: 'tools/list', params: cursor === undefined ? undefined : { cursor } },
          { timeout: timeoutMs, ...(signal ? { signal } : {}) },
        )) as ToolsPage;
      });
    },
    close: () => handler.close(),
  };
}

interface ToolsPage {
  tools: Array<{ name: string; annotations?: { readOnlyHint?: boolean } }>;
  nextCursor?: string;
}

/** What the audit trail records of a call (its method is one of the audited ones). */
function audited(method: string, params: Params): AuditedCall {
  return auditedCall({ method, params }) ?? { method };
}

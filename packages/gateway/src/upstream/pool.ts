import type { Client, FetchLike, Implementation } from '@modelcontextprotocol/client';
import type { McpServerConfig } from '../config/schema.ts';
import type { BackoffOptions } from './backoff.ts';
import {
  type CredentialRejected,
  type Credentials,
  connectionError,
  tokenFingerprint,
} from './credentials.ts';
import { UpstreamError } from './errors.ts';
import { Supervisor, type UpstreamStatus } from './supervisor.ts';
import { systemTimers, type Timers } from './timers.ts';

export type { CredentialRejected, Credentials, UpstreamCredential } from './credentials.ts';
export { UpstreamError, type UpstreamErrorReason } from './errors.ts';
export type { UpstreamStatus } from './supervisor.ts';

const DEFAULT_CLIENT_INFO: Implementation = { name: 'gatehouse-gateway', version: '0.1.0' };

/**
 * The gateway's connections to its upstream MCP servers, through the official SDK v2 client:
 * stdio processes (shared, or one per user with `${user}` in args, env and cwd) and Streamable
 * HTTP connections (with the configured static headers, never the MCP client's token).
 *
 * - Started on first use; a stdio process stops after `process.idleSeconds` without requests;
 *   at most `process.maxProcesses` run (the least recently used idle one makes room; when all
 *   are busy the request fails as `unavailable`).
 * - A process that crashes fails its requests in flight as `crashed`; the next request starts a
 *   new one, immediately after one crash and with a doubling wait (250 ms … 30 s) after several.
 * - Every request has the server's `timeoutMs` (default 30 s): a slow or dead upstream fails as
 *   `timeout` with a sentence naming the server, never a hang.
 * - stderr goes to `log(server, line)` line by line, with the pool's own events (start, idle
 *   stop, crash). Processes are stopped by `close()` and killed if the gateway exits first.
 * - Upstream requests to the client (sampling, elicitation, roots) are refused with JSON-RPC
 *   "method not found": the gateway's client declares none of those capabilities.
 *
 * In shared mode one `Client` serves every user: send requests with `client.request(...)`
 * (which never answers from the SDK's response cache) rather than the caching list helpers.
 *
 * @example
 * const pool = new UpstreamPool({ servers: { files: { command: 'npx', args: ['server', '/srv/${user}'],
 *   process: { mode: 'per-user' } } } });
 * const client = await pool.client('files', 'alice', request.signal);
 * const result = await client.request({ method: 'tools/list', params: {} });
 */
export class UpstreamPool {
  readonly #supervisors = new Map<string, Supervisor>();
  /** Servers with a `connection`: each user's calls carry that user's upstream token. */
  readonly #needsCredential = new Set<string>();
  readonly #credentials: Credentials | undefined;
  readonly #credentialRejected: CredentialRejected | undefined;
  /**
   * The fingerprint of the upstream token behind a client handed out, or behind the error its
   * start failed with: what a refusal (401) names, exactly the token that request carried.
   */
  readonly #tokenOf = new WeakMap<object, string>();
  readonly #onExit = () => {
    for (const supervisor of this.#supervisors.values()) supervisor.killNow();
  };
  #closed = false;

  constructor(options: {
    servers: Record<string, McpServerConfig>;
    log?: (server: string, line: string) => void;
    clientInfo?: Implementation;
    /** The clock and timers for idle stops and backoff (tests pass a manual one). */
    timers?: Timers;
    backoff?: BackoffOptions;
    /** The fetch HTTP upstreams are reached with (default: the global one); the deadline wraps it. */
    fetch?: FetchLike;
    /** The token vault: each user's upstream token for the servers with a `connection`. */
    credentials?: Credentials;
    /** The vault, told of a token the upstream refused; without it, a refusal is only reported. */
    credentialRejected?: CredentialRejected;
    /** The configured connections, by id: `env` names the variable a stdio process receives the token in. */
    connections?: ReadonlyMap<string, { env?: string | undefined }>;
  }) {
    const log = options.log ?? ((server, line) => process.stderr.write(`[${server}] ${line}\n`));
    this.#credentials = options.credentials;
    this.#credentialRejected = options.credentialRejected;
    for (const [name, config] of Object.entries(options.servers)) {
      const connection = config.connection;
      if (connection !== undefined) {
        if (!options.credentials)
          throw new TypeError(`mcpServers.${name}.connection needs the token vault (credentials).`);
        this.#needsCredential.add(name);
      }
      this.#supervisors.set(
        name,
        new Supervisor({
          name,
          config,
          clientInfo: options.clientInfo ?? DEFAULT_CLIENT_INFO,
          timers: options.timers ?? systemTimers,
          backoff: options.backoff ?? {},
          ...(options.fetch ? { fetch: options.fetch } : {}),
          ...(connection !== undefined
            ? { credential: { env: options.connections?.get(connection)?.env } }
            : {}),
          log: (line) => log(name, line),
        }),
      );
    }
    process.on('exit', this.#onExit);
  }

  /**
   * A connected client for `server`; in per-user mode the one of `user` (the token's `sub`).
   * Starts the process or connection on first use. `signal` ends this caller's wait only: a
   * start that others wait for goes on. Fails with {@link UpstreamError}; for a server with a
   * `connection` that `user` has not connected (or must reconnect), with one naming the page.
   */
  async client(server: string, user: string, signal?: AbortSignal): Promise<Client> {
    const supervisor = this.#supervisors.get(server);
    if (!supervisor) {
      throw new UpstreamError(
        server,
        'unavailable',
        `No MCP server is configured under the name "${server}".`,
      );
    }
    if (!this.#needsCredential.has(server) || !this.#credentials) return supervisor.client(user, signal);
    // Asked on every call: the vault refreshes before expiry, and a new token restarts the process.
    const credential = await this.#credentials(server, user);
    if (!('token' in credential)) throw connectionError(server, credential);
    const fingerprint = tokenFingerprint(credential.token);
    try {
      const client = await supervisor.client(user, signal, credential.token, fingerprint);
      this.#tokenOf.set(client, fingerprint);
      return client;
    } catch (err) {
      if (err instanceof Error) this.#tokenOf.set(err, fingerprint);
      throw err;
    }
  }

  /**
   * The upstream of `server` refused `user`'s own token (HTTP 401) on a request through `used`
   * (the client it went through, or the error its start failed with). The vault renews the token
   * or says to reconnect: resolves true when there is a new token to try once more with, false
   * when there is nothing to do, and throws the error naming the page where the user reconnects.
   */
  async credentialRejected(server: string, user: string, used: object): Promise<boolean> {
    const rejected = this.#tokenOf.get(used);
    if (!this.#credentialRejected || rejected === undefined) return false;
    const credential = await this.#credentialRejected(server, user, (t) => tokenFingerprint(t) === rejected);
    if (!('token' in credential)) throw connectionError(server, credential);
    return tokenFingerprint(credential.token) !== rejected;
  }

  /** Whether `server` calls its upstream with each user's own token (it has a `connection`). */
  needsCredential(server: string): boolean {
    return this.#needsCredential.has(server);
  }

  /** Each configured server: transport, mode, running processes or connections, last error. */
  status(): UpstreamStatus[] {
    return [...this.#supervisors.values()].map((supervisor) => supervisor.status());
  }

  /** Stops every process and connection; later requests fail as `unavailable`. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.all([...this.#supervisors.values()].map((supervisor) => supervisor.close()));
    process.off('exit', this.#onExit);
  }
}

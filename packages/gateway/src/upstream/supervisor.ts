import { untilAborted } from '@gatehouse/core';
import type {
  FetchLike,
  Implementation,
  StreamableHTTPClientTransport,
  Transport,
} from '@modelcontextprotocol/client';
import { type McpServerConfig, serverDefaults, USER_PLACEHOLDER } from '../config/schema.ts';
import { type BackoffOptions, restartDelay } from './backoff.ts';
import { tokenFingerprint } from './credentials.ts';
import { classifyFailure, type RequestFailure, UpstreamError } from './errors.ts';
import { httpTransport } from './http.ts';
import { stdioLaunch, stdioTransport } from './stdio.ts';
import type { Timers } from './timers.ts';
import { UpstreamClient } from './upstream-client.ts';
import { pathSafeUser } from './user.ts';

/** Users whose failure counts are remembered at most (per-user mode); the oldest are forgotten. */
const MAX_FAILURE_RECORDS = 1024;

/** Where one configured server stands, for `gatehouse servers`. */
export interface UpstreamStatus {
  server: string;
  transport: 'stdio' | 'http';
  /** stdio only. */
  mode?: 'shared' | 'per-user';
  /** Processes running (stdio) or connections open (HTTP). */
  running: number;
  lastError?: string;
  /** Epoch milliseconds. */
  lastErrorAt?: number;
}

/** One process (stdio) or connection (HTTP), shared by everyone or owned by one user. */
interface Connection {
  /** The user it belongs to, or '' when shared. */
  readonly key: string;
  readonly client: UpstreamClient;
  readonly transport: Transport;
  started: Promise<UpstreamClient>;
  ready: boolean;
  /** Stopped on purpose (idle, room, shutdown, a lost HTTP session): its close is not a crash. */
  stopping: boolean;
  /** Replaced by one holding a newer upstream token: stopped once its requests in flight end. */
  retiring: boolean;
  /** {@link tokenFingerprint} of the upstream token it was started with (servers with a `connection`). */
  readonly fingerprint: string | undefined;
  inflight: number;
  lastUsed: number;
  idleTimer: unknown;
  pid: number | null;
  lastStderr: string | undefined;
}

/** Consecutive failures of one key, and when it may start again. */
interface Failures {
  count: number;
  nextStartAt: number;
}

/**
 * Owns the processes or connections of one configured server: starts them on first use (one
 * shared, or one per user), stops them when idle, keeps at most `maxProcesses`, and after a
 * crash starts the next one only after a backoff.
 */
export class Supervisor {
  readonly name: string;
  readonly #config: McpServerConfig;
  readonly #kind: 'stdio' | 'http';
  readonly #mode: 'shared' | 'per-user';
  readonly #timeoutMs: number;
  readonly #idleMs: number;
  readonly #maxProcesses: number;
  readonly #clientInfo: Implementation;
  readonly #timers: Timers;
  readonly #backoff: BackoffOptions;
  readonly #log: (line: string) => void;
  readonly #fetch: FetchLike | undefined;
  readonly #connections = new Map<string, Connection>();
  /** Replaced connections still finishing requests (not counted, not handed out). */
  readonly #retiring = new Set<Connection>();
  /**
   * Set for a server with a `connection`: each user's process or HTTP connection carries that
   * user's upstream token, in the environment variable `env` (stdio) or as `Authorization: Bearer`.
   */
  readonly #credential: { env: string | undefined } | undefined;
  readonly #failures = new Map<string, Failures>();
  readonly #closing = new AbortController();
  #lastError: string | undefined;
  #lastErrorAt: number | undefined;

  constructor(options: {
    name: string;
    config: McpServerConfig;
    clientInfo: Implementation;
    timers: Timers;
    backoff: BackoffOptions;
    log: (line: string) => void;
    fetch?: FetchLike;
    /** The server needs each user's upstream token (its `connection`); `env` names the stdio variable. */
    credential?: { env: string | undefined };
  }) {
    const { name, config } = options;
    if ((config.command === undefined) === (config.url === undefined)) {
      throw new TypeError(`mcpServers.${name}: give either a command (stdio) or a url (Streamable HTTP).`);
    }
    this.name = name;
    this.#config = config;
    this.#kind = config.command === undefined ? 'http' : 'stdio';
    this.#credential = options.credential;
    const configuredMode = config.process?.mode ?? serverDefaults.process.mode;
    if (this.#credential && this.#kind === 'stdio') {
      // A shared process would run with one user's token on everyone's behalf.
      if (configuredMode !== 'per-user' || this.#credential.env === undefined)
        throw new TypeError(
          `mcpServers.${name}: a stdio server with a connection needs "process": { "mode": "per-user" } and the connection's "env".`,
        );
    }
    // With a connection, an HTTP upstream too gets one connection per user: each carries its
    // user's token from its very first request (initialize), and no MCP session is shared.
    this.#mode = this.#credential ? 'per-user' : this.#kind === 'stdio' ? configuredMode : 'shared';
    this.#timeoutMs = config.timeoutMs ?? serverDefaults.timeoutMs;
    this.#idleMs = (config.process?.idleSeconds ?? serverDefaults.process.idleSeconds) * 1000;
    this.#maxProcesses = config.process?.maxProcesses ?? serverDefaults.process.maxProcesses;
    this.#clientInfo = options.clientInfo;
    this.#timers = options.timers;
    this.#backoff = options.backoff;
    this.#log = options.log;
    this.#fetch = options.fetch;
  }

  /**
   * A connected client: for `user` in per-user mode, the shared one otherwise. For a server with a
   * connection, `token` is the user's current upstream token: a process or connection started with
   * another one (before a refresh) is replaced, and stopped once its requests in flight end.
   * `fingerprint` is the token's, when the caller has it already.
   */
  async client(
    user: string,
    signal?: AbortSignal,
    token?: string,
    fingerprint: string | undefined = token === undefined ? undefined : tokenFingerprint(token),
  ): Promise<UpstreamClient> {
    if (this.#closing.signal.aborted) throw this.#shuttingDown();
    if (this.#mode === 'per-user' && user === '') {
      throw new UpstreamError(
        this.name,
        'refused',
        `The MCP server "${this.name}" runs one process per user and needs a user.`,
      );
    }
    if (this.#credential && token === undefined) {
      throw new UpstreamError(
        this.name,
        'not_connected',
        `The MCP server "${this.name}" needs an upstream token.`,
      );
    }
    const key = this.#mode === 'per-user' ? user : '';
    const running = this.#current(key, fingerprint);
    if (running) return untilAborted(running.started, signal);
    await this.#backoffFor(key, signal);
    // Another caller may have started it while this one waited.
    const started = this.#current(key, fingerprint) ?? this.#start(key, token, fingerprint);
    return untilAborted(started.started, signal);
  }

  /** The running connection of `key`, unless it holds another token than `fingerprint` (then it retires). */
  #current(key: string, fingerprint: string | undefined): Connection | undefined {
    const running = this.#connections.get(key);
    if (!running || running.fingerprint === fingerprint) return running;
    this.#forget(running);
    running.retiring = true;
    // One still starting may have callers about to send on it: like one with requests in flight,
    // it stops when its last request ends (or when idle, if none comes).
    if (running.ready && running.inflight === 0)
      void this.#stop(running, 'restarted with a new upstream token');
    else this.#retiring.add(running);
    return undefined;
  }

  status(): UpstreamStatus {
    let running = 0;
    for (const connection of this.#connections.values()) if (connection.ready) running++;
    return {
      server: this.name,
      transport: this.#kind,
      ...(this.#kind === 'stdio' ? { mode: this.#mode } : {}),
      running,
      ...(this.#lastError === undefined
        ? {}
        : { lastError: this.#lastError, lastErrorAt: this.#lastErrorAt }),
    };
  }

  /** Stops everything and refuses further requests. */
  async close(): Promise<void> {
    this.#closing.abort();
    const all = [...this.#connections.values(), ...this.#retiring];
    await Promise.all(all.map((c) => this.#stop(c, undefined)));
  }

  /** Kills every process at once: the gateway is exiting and cannot wait for them. */
  killNow(): void {
    for (const connection of [...this.#connections.values(), ...this.#retiring]) {
      if (connection.pid === null) continue;
      try {
        process.kill(connection.pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
  }

  /** Waits out the backoff of `key` after repeated failures, if the request's deadline allows. */
  async #backoffFor(key: string, signal: AbortSignal | undefined): Promise<void> {
    const failures = this.#failures.get(key);
    const wait = failures ? failures.nextStartAt - this.#timers.now() : 0;
    if (!failures || wait <= 0) return;
    if (wait > this.#timeoutMs) {
      throw new UpstreamError(
        this.name,
        'unavailable',
        `The MCP server "${this.name}" failed ${failures.count} times in a row; it is started again in ${Math.ceil(wait / 1000)} s.`,
      );
    }
    const signals = signal ? [signal, this.#closing.signal] : [this.#closing.signal];
    const stop = AbortSignal.any(signals);
    await new Promise<void>((resolve, reject) => {
      const onAbort = () => {
        this.#timers.clearTimeout(timer);
        reject(this.#closing.signal.aborted ? this.#shuttingDown() : signal?.reason);
      };
      const timer = this.#timers.setTimeout(() => {
        stop.removeEventListener('abort', onAbort);
        resolve();
      }, wait);
      if (stop.aborted) onAbort();
      else stop.addEventListener('abort', onAbort, { once: true });
    });
    if (this.#closing.signal.aborted) throw this.#shuttingDown();
  }

  #start(key: string, token: string | undefined, fingerprint: string | undefined): Connection {
    this.#makeRoom();
    const user = key === '' ? undefined : key;
    const prefix = user === undefined ? '' : `(${pathSafeUser(user)}) `;
    const launch = () => {
      const launched = stdioLaunch(this.#config, user);
      const env = this.#credential?.env;
      if (env !== undefined && token !== undefined) launched.env[env] = token;
      return launched;
    };
    const transport: Transport =
      this.#kind === 'stdio'
        ? stdioTransport(
            launch(),
            user !== undefined && this.#config.cwd?.includes(USER_PLACEHOLDER) === true,
            (line) => {
              connection.lastStderr = line;
              this.#log(`${prefix}${line}`);
            },
          )
        : httpTransport(this.#config, this.#timeoutMs, this.#fetch, token);
    const client = new UpstreamClient({
      server: this.name,
      transport: this.#kind,
      timeoutMs: this.#timeoutMs,
      clientInfo: this.#clientInfo,
      hooks: { begin: () => this.#begin(connection), end: (failure) => this.#end(connection, failure) },
    });
    const connection: Connection = {
      key,
      client,
      transport,
      started: Promise.resolve(client),
      ready: false,
      stopping: false,
      retiring: false,
      fingerprint,
      inflight: 0,
      lastUsed: this.#timers.now(),
      idleTimer: undefined,
      pid: null,
      lastStderr: undefined,
    };
    client.onclose = () => this.#onClose(connection);
    client.onerror = (error) => {
      if (!connection.stopping) this.#log(`${prefix}${error.message}`);
    };
    connection.started = client.connect(transport, { timeout: this.#timeoutMs }).then(
      () => {
        connection.ready = true;
        connection.pid = 'pid' in transport && typeof transport.pid === 'number' ? transport.pid : null;
        if (this.#closing.signal.aborted) {
          void this.#stop(connection, undefined);
          throw this.#shuttingDown();
        }
        if (this.#kind === 'stdio') this.#log(`${prefix}started (pid ${connection.pid})`);
        this.#scheduleIdle(connection);
        return client;
      },
      (error: unknown) => {
        this.#forget(connection);
        connection.stopping = true;
        void client.close().catch(() => {});
        const failure = classifyFailure(this.name, this.#kind, this.#timeoutMs, error);
        const thrown = this.#startFailure(failure.error);
        const detail =
          connection.lastStderr === undefined ? '' : ` (last stderr: ${clip(connection.lastStderr)})`;
        this.#failed(key, `${thrown.message}${detail}`);
        throw thrown;
      },
    );
    // The first caller always waits on it; this only keeps a shutdown race from going unhandled.
    connection.started.catch(() => {});
    this.#connections.set(key, connection);
    return connection;
  }

  /** The error a failed start gives callers: a timeout stays one; anything else says it could not start. */
  #startFailure(error: unknown): UpstreamError {
    if (error instanceof UpstreamError && (error.reason === 'timeout' || this.#kind === 'http')) return error;
    return new UpstreamError(this.name, 'unavailable', `The MCP server "${this.name}" could not be started.`);
  }

  /** Keeps the number of processes within `maxProcesses`, stopping the least recently used idle one if need be. */
  #makeRoom(): void {
    if (this.#kind !== 'stdio' || this.#connections.size < this.#maxProcesses) return;
    let oldest: Connection | undefined;
    for (const connection of this.#connections.values()) {
      if (!connection.ready || connection.inflight > 0) continue;
      if (!oldest || connection.lastUsed < oldest.lastUsed) oldest = connection;
    }
    if (!oldest) {
      throw new UpstreamError(
        this.name,
        'unavailable',
        `The MCP server "${this.name}" already runs ${this.#maxProcesses} processes, all busy; try again shortly.`,
      );
    }
    void this.#stop(oldest, 'stopped to make room for another user');
  }

  #begin(connection: Connection): void {
    connection.inflight++;
    connection.lastUsed = this.#timers.now();
    if (connection.idleTimer !== undefined) {
      this.#timers.clearTimeout(connection.idleTimer);
      connection.idleTimer = undefined;
    }
  }

  #end(connection: Connection, failure: RequestFailure | undefined): void {
    connection.inflight--;
    connection.lastUsed = this.#timers.now();
    if (connection.retiring) {
      if (connection.inflight === 0) void this.#stop(connection, 'restarted with a new upstream token');
      return;
    }
    if (!failure) {
      // A request answered after the start: whatever failed before is over.
      if (connection.ready) this.#failures.delete(connection.key);
    } else if (failure.error instanceof UpstreamError && connection.ready) {
      this.#lastError = failure.error.message;
      this.#lastErrorAt = this.#timers.now();
      // A stdio process that died is reported by its close; an HTTP connection that lost its
      // session or its peer is replaced on the next request.
      if (failure.connectionLost && this.#kind === 'http' && !connection.stopping) {
        this.#failed(connection.key, failure.error.message);
        void this.#stop(connection, undefined);
      }
    }
    this.#scheduleIdle(connection);
  }

  #scheduleIdle(connection: Connection): void {
    // Per-user HTTP connections (servers with a connection) stop when idle too: one per user adds up.
    if (
      (this.#kind !== 'stdio' && this.#mode !== 'per-user') ||
      connection.inflight > 0 ||
      !connection.ready ||
      connection.stopping
    )
      return;
    if (connection.idleTimer !== undefined) this.#timers.clearTimeout(connection.idleTimer);
    connection.idleTimer = this.#timers.setTimeout(() => {
      connection.idleTimer = undefined;
      const idleFor = this.#timers.now() - connection.lastUsed;
      if (connection.inflight > 0 || connection.stopping) return;
      if (idleFor >= this.#idleMs)
        void this.#stop(connection, `stopped after ${Math.round(idleFor / 1000)} s without requests`);
      else this.#scheduleIdle(connection);
    }, this.#idleMs);
  }

  /** The connection closed: on purpose, or it crashed (its pending requests fail as 'crashed'). */
  #onClose(connection: Connection): void {
    this.#forget(connection);
    if (connection.stopping || !connection.ready) return;
    connection.ready = false;
    const what = this.#kind === 'stdio' ? 'the process exited unexpectedly' : 'the connection closed';
    const detail =
      connection.lastStderr === undefined ? '' : ` (last stderr: ${clip(connection.lastStderr)})`;
    const failures = this.#failed(connection.key, `${what}${detail}`);
    const delay = restartDelay(failures.count, this.#backoff);
    this.#log(`${what}; the next request starts it again${delay > 0 ? ` after ${delay} ms` : ''}`);
  }

  async #stop(connection: Connection, why: string | undefined): Promise<void> {
    if (connection.stopping) return;
    connection.stopping = true;
    this.#forget(connection);
    if (why !== undefined)
      this.#log(`${connection.key === '' ? '' : `(${pathSafeUser(connection.key)}) `}${why}`);
    if (this.#kind === 'http') {
      await (connection.transport as StreamableHTTPClientTransport).terminateSession().catch(() => {});
    }
    await connection.client.close().catch(() => {});
  }

  #forget(connection: Connection): void {
    if (this.#connections.get(connection.key) === connection) this.#connections.delete(connection.key);
    this.#retiring.delete(connection);
    if (connection.idleTimer !== undefined) {
      this.#timers.clearTimeout(connection.idleTimer);
      connection.idleTimer = undefined;
    }
  }

  /** Counts a failure of `key` (for backoff) and records it as the server's last error. */
  #failed(key: string, message: string): Failures {
    const now = this.#timers.now();
    const count = (this.#failures.get(key)?.count ?? 0) + 1;
    const failures = { count, nextStartAt: now + restartDelay(count, this.#backoff) };
    this.#failures.delete(key);
    this.#failures.set(key, failures);
    if (this.#failures.size > MAX_FAILURE_RECORDS) {
      const first = this.#failures.keys().next();
      if (!first.done) this.#failures.delete(first.value);
    }
    this.#lastError = message;
    this.#lastErrorAt = now;
    return failures;
  }

  #shuttingDown(): UpstreamError {
    return new UpstreamError(this.name, 'unavailable', 'The gateway is shutting down.');
  }
}

function clip(text: string): string {
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}

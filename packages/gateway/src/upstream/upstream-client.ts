import {
  Client,
  type Implementation,
  type JSONRPCErrorResponse,
  type JSONRPCResponse,
  type Request,
  type RequestMethod,
  type RequestOptions,
  type ResultTypeMap,
  SdkError,
  SdkErrorCode,
  type StandardSchemaV1,
} from '@modelcontextprotocol/client';
import { classifyFailure, type RequestFailure } from './errors.ts';

/** What the pool learns from each request: that the connection is busy, and how the request ended. */
export interface RequestHooks {
  begin(): void;
  /** `failure` is set when the request failed for any reason but the caller's own abort. */
  end(failure?: RequestFailure): void;
}

/**
 * The official SDK v2 `Client`, with two things the gateway needs on every request, whoever sends
 * it (the bridge, `listTools()`, the `initialize` handshake):
 * - a deadline: the request's `timeout` and `maxTotalTimeout` never exceed the server's
 *   `timeoutMs` (progress notifications cannot stretch a call forever), so a slow or dead
 *   upstream fails with `UpstreamError('timeout')` instead of holding the client;
 * - failures that say what happened: transport failures become an `UpstreamError` naming the
 *   server; the upstream's own JSON-RPC errors pass through untouched.
 *
 * It declares no client capabilities. An upstream's server-to-client requests (sampling,
 * elicitation, roots) are therefore answered with JSON-RPC "method not found" by the SDK: with
 * one upstream connection shared by many users, the gateway cannot tell whose client should
 * answer, and forwarding them to the wrong person would be worse than refusing.
 */
export class UpstreamClient extends Client {
  readonly #server: string;
  readonly #transport: 'stdio' | 'http';
  readonly #timeoutMs: number;
  readonly #hooks: RequestHooks;

  constructor(options: {
    server: string;
    transport: 'stdio' | 'http';
    timeoutMs: number;
    clientInfo: Implementation;
    hooks: RequestHooks;
  }) {
    super(options.clientInfo, { capabilities: {} });
    this.#server = options.server;
    this.#transport = options.transport;
    this.#timeoutMs = options.timeoutMs;
    this.#hooks = options.hooks;
  }

  /**
   * Keeps wire order: the SDK dispatches a response a microtask before the notifications read in
   * the same chunk, and drops the request's progress handler with the response, so an upstream's
   * last progress notification would be lost when it arrives together with the result.
   */
  protected override _onresponse(response: JSONRPCResponse | JSONRPCErrorResponse): void {
    queueMicrotask(() => super._onresponse(response));
  }

  override request<M extends RequestMethod>(
    request: { method: M; params?: Record<string, unknown> },
    options?: RequestOptions,
  ): Promise<ResultTypeMap[M]>;
  override request<T extends StandardSchemaV1>(
    request: Request,
    resultSchema: T,
    options?: RequestOptions,
  ): Promise<StandardSchemaV1.InferOutput<T>>;
  override async request(
    request: Request,
    schemaOrOptions?: StandardSchemaV1 | RequestOptions,
    maybeOptions?: RequestOptions,
  ): Promise<unknown> {
    const schema = isStandardSchema(schemaOrOptions) ? schemaOrOptions : undefined;
    const options = schema ? maybeOptions : (schemaOrOptions as RequestOptions | undefined);
    const bounded = this.#bounded(options);
    this.#hooks.begin();
    try {
      // A client kept past its connection's end (the process crashed meanwhile) fails like one in flight.
      if (this.transport === undefined) throw new SdkError(SdkErrorCode.NotConnected, 'Not connected');
      const result = schema
        ? await super.request(request, schema, bounded)
        : await super.request(
            request as { method: RequestMethod; params?: Record<string, unknown> },
            bounded,
          );
      this.#hooks.end();
      return result;
    } catch (error) {
      if (options?.signal?.aborted) {
        // The caller gave up (its client went away): nothing to learn about the upstream.
        this.#hooks.end();
        throw options.signal.reason;
      }
      const failure = classifyFailure(this.#server, this.#transport, this.#timeoutMs, error);
      this.#hooks.end(failure);
      throw failure.error;
    }
  }

  #bounded(options: RequestOptions | undefined): RequestOptions {
    const timeout = Math.min(options?.timeout ?? this.#timeoutMs, this.#timeoutMs);
    return { ...options, timeout, maxTotalTimeout: Math.min(options?.maxTotalTimeout ?? timeout, timeout) };
  }
}

function isStandardSchema(value: unknown): value is StandardSchemaV1 {
  return typeof value === 'object' && value !== null && '~standard' in value;
}

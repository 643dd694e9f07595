import { DeadlineExceededError } from '@gatehouse/core';
import { ProtocolError, SdkError, SdkErrorCode, SdkHttpError } from '@modelcontextprotocol/client';

/** Why an upstream could not answer; the bridge turns each into a JSON-RPC error for the client. */
export type UpstreamErrorReason = 'unavailable' | 'timeout' | 'crashed' | 'refused' | 'not_connected';

/**
 * An upstream MCP server did not answer: absent, unreachable, too slow, its process died during
 * the request, it refused the gateway's credentials, or the user has not connected (or must
 * reconnect) the upstream account the server needs. The message is one sentence naming the
 * server (never its URL, which may carry a key, nor any header), fit to show the MCP client.
 */
export class UpstreamError extends Error {
  readonly reason: UpstreamErrorReason;
  /** The configured name of the server. */
  readonly server: string;
  /** For `not_connected`: the page where the user connects (or reconnects) the upstream account. */
  readonly connectUrl: string | undefined;
  /** For `refused`: the upstream's HTTP status (401: the credentials were refused; 403: forbidden). */
  readonly httpStatus: number | undefined;

  constructor(
    server: string,
    reason: UpstreamErrorReason,
    message: string,
    details: { connectUrl?: string; httpStatus?: number } = {},
  ) {
    super(message);
    this.name = 'UpstreamError';
    this.server = server;
    this.reason = reason;
    this.connectUrl = details.connectUrl;
    this.httpStatus = details.httpStatus;
  }
}

/** What a failed request says about its connection. */
export interface RequestFailure {
  /** The error to throw: an {@link UpstreamError}, or the upstream's own JSON-RPC error as is. */
  error: unknown;
  /** The connection is gone or unusable (process exited, session lost): the next request needs a new one. */
  connectionLost: boolean;
}

/**
 * Classifies a failed request to `server`. A JSON-RPC error answered by the upstream (unknown
 * tool, invalid params) is the upstream's answer and passes through untouched; transport and
 * deadline failures become an {@link UpstreamError} with a sentence for the client.
 */
export function classifyFailure(
  server: string,
  transport: 'stdio' | 'http',
  timeoutMs: number,
  error: unknown,
): RequestFailure {
  if (error instanceof UpstreamError) return { error, connectionLost: false };
  if (error instanceof ProtocolError) return { error, connectionLost: false };
  if (error instanceof SdkHttpError) return httpFailure(server, error.status);
  if (error instanceof DeadlineExceededError) return timeout(server, timeoutMs);
  if (error instanceof SdkError) {
    switch (error.code) {
      case SdkErrorCode.RequestTimeout:
        return timeout(server, timeoutMs);
      case SdkErrorCode.ConnectionClosed:
      case SdkErrorCode.NotConnected:
      case SdkErrorCode.SendFailed:
        return transport === 'stdio'
          ? lost(server, 'crashed', `The MCP server "${server}" stopped while handling the request.`)
          : lost(server, 'unavailable', `The connection to the MCP server "${server}" was lost.`);
      default:
        return { error, connectionLost: false };
    }
  }
  // fetch rejects with a TypeError when the peer cannot be reached (refused, reset, DNS).
  if (error instanceof TypeError && transport === 'http') {
    return lost(server, 'unavailable', `The MCP server "${server}" cannot be reached.`);
  }
  if (isSpawnError(error)) {
    return lost(server, 'unavailable', `The MCP server "${server}" could not be started (${error.code}).`);
  }
  return { error, connectionLost: false };
}

function httpFailure(server: string, status: number | undefined): RequestFailure {
  if (status === 401 || status === 403) {
    return {
      error: new UpstreamError(
        server,
        'refused',
        `The MCP server "${server}" refused the gateway (HTTP ${status}); check the headers configured for it.`,
        { httpStatus: status },
      ),
      connectionLost: true,
    };
  }
  // 404 to a request carrying a session id: the upstream forgot the session (it restarted).
  if (status === 404) {
    return lost(
      server,
      'unavailable',
      `The MCP server "${server}" lost the session; the next request reconnects.`,
    );
  }
  const said = status === undefined ? '' : ` (HTTP ${status})`;
  return {
    error: new UpstreamError(server, 'unavailable', `The MCP server "${server}" failed${said}.`),
    connectionLost: status === undefined,
  };
}

function timeout(server: string, timeoutMs: number): RequestFailure {
  return {
    error: new UpstreamError(
      server,
      'timeout',
      `The MCP server "${server}" did not answer within ${timeoutMs} ms.`,
    ),
    connectionLost: false,
  };
}

function lost(server: string, reason: UpstreamErrorReason, message: string): RequestFailure {
  return { error: new UpstreamError(server, reason, message), connectionLost: true };
}

function isSpawnError(error: unknown): error is Error & { code: string } {
  return (
    error instanceof Error &&
    'syscall' in error &&
    typeof error.syscall === 'string' &&
    error.syscall.startsWith('spawn') &&
    'code' in error &&
    typeof error.code === 'string'
  );
}

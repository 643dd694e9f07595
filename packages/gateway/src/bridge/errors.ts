import { ProtocolError, ProtocolErrorCode } from '@modelcontextprotocol/server';
import { classifyFailure, UpstreamError } from '../upstream/errors.ts';

/**
 * How an upstream failure reaches the client. The upstream's own JSON-RPC errors (unknown tool,
 * invalid params) pass through with their code and message. Failures to get an answer at all
 * (absent, crashed, too slow, refused) become an {@link UpstreamError} whose one sentence names
 * the server: for `tools/call` a tool result with `isError` (so the model reads what happened),
 * for every other method a JSON-RPC internal error with that sentence.
 */
export function upstreamFailure(
  server: string,
  transport: 'stdio' | 'http',
  timeoutMs: number,
  error: unknown,
): UpstreamError | ProtocolError {
  const classified = classifyFailure(server, transport, timeoutMs, error).error;
  if (classified instanceof UpstreamError || isProtocolError(classified)) return classified;
  // Anything else is ours to hide: its message may quote internals of the gateway.
  return new UpstreamError(server, 'unavailable', `The MCP server "${server}" failed to answer.`);
}

/** The upstream's JSON-RPC error (the client and server packages share the error's brand). */
export function isProtocolError(error: unknown): error is ProtocolError {
  return ProtocolError.isInstance(error);
}

/** The JSON-RPC error the client receives when the upstream could not answer (outside `tools/call`). */
export function asJsonRpcError(failure: UpstreamError): ProtocolError {
  return new ProtocolError(ProtocolErrorCode.InternalError, failure.message);
}

/** The tool result the client receives when the upstream could not run the tool. */
export function toolErrorResult(failure: UpstreamError): {
  content: Array<{ type: 'text'; text: string }>;
  isError: true;
} {
  return { content: [{ type: 'text', text: failure.message }], isError: true };
}

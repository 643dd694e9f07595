/**
 * The bridge's serving of a 2025-era POST that can be answered as one JSON document (MCP
 * 2025-03-26+ Streamable HTTP, "the server MUST either return Content-Type: text/event-stream …
 * or Content-Type: application/json").
 *
 * The SDK's stateless fallback always answers with an event stream, even for a lone result: a
 * stream to build, pump and monitor, written chunk by chunk, and torn down when it ends. That was
 * most of the gateway's own cost per `tools/call`. A request that asked for no progress can have
 * nothing before its result (the bridge relays no other notifications and sends no requests to
 * the client), so here it gets the SDK's own transport with `enableJsonResponse`: one body, one
 * write. Requests that asked for progress, and everything that is not such a POST, stay with the
 * SDK's handler, which streams.
 */
import { type Server, WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/server';

/** Whether a request in the parsed JSON-RPC body (one message or a batch) asks for progress. */
export function asksForProgress(parsedBody: unknown): boolean {
  const messages = Array.isArray(parsedBody) ? parsedBody : [parsedBody];
  return messages.some((message) => {
    const meta = (message as { params?: { _meta?: unknown } } | null)?.params?._meta;
    return typeof meta === 'object' && meta !== null && 'progressToken' in meta;
  });
}

/**
 * Serves one request on a fresh server instance and a stateless transport in JSON mode. The
 * instance is closed once the answer is ready, or when the client goes away (which aborts the
 * handlers and so the upstream request); a client gone before the answer gets none.
 */
export async function serveAsJson(
  request: Request,
  server: Server,
  options: { authInfo: unknown; parsedBody: unknown },
): Promise<Response> {
  if (request.signal.aborted) return new Response(null, { status: 499 });
  const transport = new WebStandardStreamableHTTPServerTransport({
    sessionIdGenerator: undefined,
    enableJsonResponse: true,
  });
  await server.connect(transport);
  const teardown = () => {
    transport.close().catch(() => {});
    server.close().catch(() => {});
  };
  const { signal } = request;
  // Closing the transport leaves a JSON answer it was waiting for unresolved: race the abort.
  let onAbort: (() => void) | undefined;
  const gone = new Promise<Response>((resolve) => {
    onAbort = () => {
      teardown();
      resolve(new Response(null, { status: 499 }));
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([
      transport.handleRequest(request, {
        authInfo: options.authInfo as never,
        parsedBody: options.parsedBody,
      }),
      gone,
    ]);
  } finally {
    if (onAbort) signal.removeEventListener('abort', onAbort);
    teardown();
  }
}

import type { IncomingMessage, ServerResponse } from 'node:http';
import { errorResponse, OAuthError, payloadTooLarge, writeResponse } from '@gatehouse/core';
import { DEFAULT_MAX_BODY_BYTES } from '../body.ts';
import type { Guard } from '../guard.ts';
import type { AuthInfo } from '../verified-token.ts';

// A guarded web handler (`guard.wrap(...)`) is served on node:http by core's one Node adapter.
export { toNodeListener } from '@gatehouse/core';

/**
 * Builds a web `Request` from a node:http request whose body is already in hand. The URL's origin
 * comes from `origin` (the resource's configured origin), not from the client-controlled `Host`.
 */
export function toWebRequest(req: IncomingMessage, origin: string, body?: Uint8Array | string): Request {
  const headers = new Headers();
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    headers.append(req.rawHeaders[i] as string, req.rawHeaders[i + 1] as string);
  }
  const method = req.method ?? 'GET';
  const hasBody = method !== 'GET' && method !== 'HEAD' && body !== undefined;
  return new Request(new URL(req.url ?? '/', origin), {
    method,
    headers,
    ...(hasBody ? { body: typeof body === 'string' ? body : new Uint8Array(body) } : {}),
  });
}

/** Writes a web `Response` to node:http (SSE included), closing the connection if the body was left unread. */
export function writeWebResponse(
  req: IncomingMessage,
  res: ServerResponse,
  response: Response,
): Promise<void> {
  return writeResponse(response, req, res);
}

/** A node:http request that passed the guard. `auth` is where the v1 MCP SDK transports look. */
export type AuthenticatedIncomingMessage = IncomingMessage & { auth: AuthInfo; body?: unknown };

/**
 * Protects a node:http handler, e.g. one that hands the request to the v1 SDK's
 * `StreamableHTTPServerTransport.handleRequest(req, res, parsedBody)`. Serves the metadata routes,
 * answers challenges, and otherwise calls `handler` with `req.auth` set and the body parsed.
 */
export function guardNodeHandler(
  guard: Guard,
  handler: (req: AuthenticatedIncomingMessage, res: ServerResponse, parsedBody: unknown) => unknown,
  options: { maxBodyBytes?: number; onError?: (error: unknown) => void } = {},
): (req: IncomingMessage, res: ServerResponse) => void {
  const origin = new URL(guard.resource).origin;
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  return (req, res) => {
    void (async () => {
      try {
        const body = await readNodeBody(req, maxBodyBytes);
        if (body === undefined)
          return await writeResponse(errorResponse(payloadTooLarge(maxBodyBytes)), req, res);
        const request = toWebRequest(req, origin, body);
        const served = guard.serveMetadata(request);
        if (served) return await writeResponse(served, req, res);
        // The body is in hand: the guard takes it as is rather than reading a clone of the request.
        const result = await guard.check(request, body);
        if (result instanceof Response) return await writeResponse(result, req, res);
        const authed = req as AuthenticatedIncomingMessage;
        authed.auth = result.auth;
        authed.body = result.parsedBody;
        await handler(authed, res, result.parsedBody);
      } catch (err) {
        options.onError?.(err);
        if (res.headersSent) res.end();
        else await writeResponse(errorResponse(new OAuthError('server_error')), req, res);
      }
    })();
  };
}

/**
 * Buffers a node request body; undefined when it exceeds `maxBytes`, with the rest left unread
 * (the socket is not destroyed, so the 413 can still be written; the response then closes it).
 */
export function readNodeBody(req: IncomingMessage, maxBytes: number): Promise<Uint8Array | undefined> {
  if (req.method === 'GET' || req.method === 'HEAD') return Promise.resolve(new Uint8Array());
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes) return Promise.resolve(undefined);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.byteLength;
      if (size > maxBytes) {
        req.off('data', onData);
        req.pause();
        resolve(undefined);
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.once('end', () => resolve(Buffer.concat(chunks)));
    req.once('error', reject);
  });
}

import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { DEFAULT_MAX_BODY_BYTES } from '../body.ts';
import type { Guard } from '../guard.ts';
import type { AuthInfo } from '../verified-token.ts';

/**
 * Builds a web `Request` from a node:http request. The URL's origin comes from `origin` (the
 * resource's configured origin), not from the client-controlled `Host` header.
 */
export function toWebRequest(
  req: IncomingMessage,
  origin: string,
  body?: Uint8Array | string,
  signal?: AbortSignal,
): Request {
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue;
    for (const v of Array.isArray(value) ? value : [value]) headers.append(name, v);
  }
  const method = req.method ?? 'GET';
  const init: RequestInit & { duplex?: 'half' } = { method, headers, ...(signal ? { signal } : {}) };
  if (method !== 'GET' && method !== 'HEAD') {
    if (body !== undefined) init.body = typeof body === 'string' ? body : new Uint8Array(body);
    else {
      init.body = Readable.toWeb(req) as ReadableStream<Uint8Array>;
      init.duplex = 'half';
    }
  }
  return new Request(new URL(req.url ?? '/', origin), init);
}

/** Writes a web `Response` to a node:http response, streaming the body (SSE included). */
export async function writeWebResponse(res: ServerResponse, response: Response): Promise<void> {
  const headers: Record<string, string | string[]> = {};
  response.headers.forEach((value, name) => {
    if (name === 'set-cookie') return;
    headers[name] = value;
  });
  const cookies = response.headers.getSetCookie();
  if (cookies.length) headers['set-cookie'] = cookies;
  res.writeHead(response.status, headers);
  if (!response.body) {
    res.end();
    return;
  }
  const reader = response.body.getReader();
  res.on('close', () => void reader.cancel().catch(() => {}));
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      res.write(value);
    }
  } catch {
    // The client went away mid-stream; nothing to report.
  }
  res.end();
}

/**
 * Serves a web handler (e.g. `guard.wrap(...)`) on node:http.
 *
 * @example http.createServer(toNodeListener(guard.wrap(handler), { origin: 'http://127.0.0.1:8080' }))
 */
export function toNodeListener(
  handler: (request: Request) => Promise<Response>,
  options: { origin: string },
): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const abort = new AbortController();
    res.on('close', () => {
      if (!res.writableFinished) abort.abort();
    });
    void (async () => {
      try {
        await writeWebResponse(
          res,
          await handler(toWebRequest(req, options.origin, undefined, abort.signal)),
        );
      } catch {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
        res.end(res.headersSent ? undefined : JSON.stringify({ error: 'server_error' }));
      }
    })();
  };
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
  options: { maxBodyBytes?: number } = {},
): (req: IncomingMessage, res: ServerResponse) => void {
  const origin = new URL(guard.resource).origin;
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  return (req, res) => {
    void (async () => {
      try {
        const body = await readNodeBody(req, maxBodyBytes);
        if (body === undefined) {
          res.writeHead(413, { 'content-type': 'application/json' }).end('{"error":"invalid_request"}');
          return;
        }
        const request = toWebRequest(req, origin, body);
        const served = guard.serveMetadata(request);
        if (served) return await writeWebResponse(res, served);
        // The body is in hand: the guard takes it as is rather than reading a clone of the request.
        const result = await guard.check(request, body);
        if (result instanceof Response) return await writeWebResponse(res, result);
        const authed = req as AuthenticatedIncomingMessage;
        authed.auth = result.auth;
        authed.body = result.parsedBody;
        await handler(authed, res, result.parsedBody);
      } catch {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
        res.end(res.headersSent ? undefined : JSON.stringify({ error: 'server_error' }));
      }
    })();
  };
}

/** Buffers a node request body; undefined when it exceeds `maxBytes`. */
export async function readNodeBody(req: IncomingMessage, maxBytes: number): Promise<Uint8Array | undefined> {
  if (req.method === 'GET' || req.method === 'HEAD') return new Uint8Array();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.byteLength;
    if (size > maxBytes) return undefined;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

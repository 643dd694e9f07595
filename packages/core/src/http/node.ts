import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { bodyTextOf } from '../errors.ts';
import type { HttpHandler } from './app.ts';
import { rememberBufferedBody } from './body.ts';

/**
 * The one Node adapter: node:http in, web `Request` → handler → `Response` out. Used by the
 * authorization server, `gatehouse serve` and MCP servers protected by the guard.
 */

export interface NodeListenerOptions {
  /**
   * Behind a reverse proxy or load balancer: take the client's address from the last
   * `X-Forwarded-For` entry (the one the proxy appended) instead of the socket's. Only turn this
   * on when every request comes through such a proxy, or clients could forge their address.
   */
  trustProxy?: boolean;
}

/**
 * Bodies that declare a length up to this are read into memory before the handler runs: cheaper
 * than a web stream over the socket, and no larger than what the form and JSON readers accept
 * anyway. Longer or chunked bodies are streamed, so the handler can refuse them unread.
 */
const BUFFERED_BODY_LIMIT = 64 * 1024;

/**
 * Methods a web Request cannot carry (Fetch's forbidden methods) and no route here serves:
 * RFC 9110 §15.6.2, 501 for a method not supported for any resource.
 */
const UNSUPPORTED_METHODS = new Set(['CONNECT', 'TRACE', 'TRACK']);

/** How long a connection closed with an unread body keeps discarding input (RFC 9112 §9.6). */
const LINGER_MS = 2000;

/** The client's address: the socket peer, or with `trustProxy` the proxy's last X-Forwarded-For entry. */
export function clientAddress(req: IncomingMessage, trustProxy = false): string | undefined {
  const forwarded = trustProxy ? req.headers['x-forwarded-for'] : undefined;
  const last = (Array.isArray(forwarded) ? forwarded.join(',') : forwarded)?.split(',').at(-1)?.trim();
  return last || req.socket.remoteAddress;
}

/**
 * Adapts a web-standard handler to node:http. `origin` is the externally visible origin (the
 * issuer's, or the resource's), so that URLs are built from configuration rather than from the
 * Host header. The Request's `signal` aborts when the client goes away.
 *
 * @example http.createServer(toNodeListener(as.fetch, 'https://auth.example.com')).listen(8080)
 */
export function toNodeListener(handler: HttpHandler, origin: string, options: NodeListenerOptions = {}) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    try {
      const url = requestUrl(req.url, origin);
      if (url === undefined) {
        writeRefusal(req, res, 400, 'The request target is malformed.');
        return;
      }
      const method = req.method ?? 'GET';
      if (UNSUPPORTED_METHODS.has(method)) {
        writeRefusal(req, res, 501, `The ${method} method is not supported by this server.`);
        return;
      }
      const headers = new Headers();
      for (let i = 0; i < req.rawHeaders.length; i += 2) {
        headers.append(req.rawHeaders[i] as string, req.rawHeaders[i + 1] as string);
      }
      const abort = new AbortController();
      res.once('close', () => {
        if (!res.writableFinished) abort.abort();
      });
      const hasBody = method !== 'GET' && method !== 'HEAD';
      const body = hasBody ? await requestBody(req) : undefined;
      let request: Request;
      try {
        request = new Request(url, {
          method,
          headers,
          body,
          signal: abort.signal,
          duplex: 'half',
        } as RequestInit);
      } catch {
        // A target that only looked like a path (the URL parser refuses it).
        writeRefusal(req, res, 400, 'The request target is malformed.');
        return;
      }
      if (body instanceof Uint8Array) rememberBufferedBody(request, body);
      const response = await handler(request, { remoteAddress: clientAddress(req, options.trustProxy) });
      await writeResponse(response, req, res);
    } catch {
      // The handler already turns errors into responses; this is the transport failing. Once the
      // head is out, all that is left is to end the response (writeHead sets headersSent).
      if (res.headersSent) res.end();
      else writeRefusal(req, res, 500, undefined);
    }
  };
}

/**
 * The request's URL on the configured origin, never on a host the client names; undefined for a
 * target no URL can be made of (`GET http://[x]/`, `*`). An origin-form target (`/path?query`,
 * RFC 9112 §3.2.1) is appended as is and parsed once, by the Request constructor; even
 * `//host/path` stays a path. An absolute-form target (§3.2.2) keeps only its path and query.
 */
function requestUrl(target: string | undefined, origin: string): string | undefined {
  if (target === undefined) return `${origin}/`;
  if (target.charCodeAt(0) === 47 /* / */) return origin + target;
  if (!URL.canParse(target)) return undefined;
  const { pathname, search } = new URL(target);
  return `${origin}${pathname}${search}`;
}

/** A small body of declared length as bytes; anything else as a stream. */
function requestBody(req: IncomingMessage): Promise<Uint8Array> | ReadableStream<Uint8Array> {
  const declared = req.headers['content-length'];
  if (req.headers['transfer-encoding'] !== undefined || declared === undefined) return bodyStream(req);
  const length = Number(declared);
  if (!(length <= BUFFERED_BODY_LIMIT)) return bodyStream(req);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.once('end', () => resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks)));
    req.once('error', reject);
    // A client that goes away mid-body: there is nobody left to answer.
    req.once('close', () => {
      if (!req.complete) reject(new Error('request aborted'));
    });
  });
}

/**
 * The body as a web stream that reads only on demand. Cancelling it (a reader that refuses the
 * body) stops reading but leaves the socket alone, so the response can still be written; the
 * adapter then closes the connection (`Readable.toWeb` would destroy the socket instead).
 */
function bodyStream(req: IncomingMessage): ReadableStream<Uint8Array> {
  let stopped = false;
  return new ReadableStream<Uint8Array>({
    start(controller) {
      req.pause();
      req.on('data', (chunk: Buffer) => {
        if (stopped) return;
        controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
        if ((controller.desiredSize ?? 0) <= 0) req.pause();
      });
      req.once('end', () => {
        if (!stopped) controller.close();
      });
      req.once('error', (err) => {
        if (!stopped) controller.error(err);
      });
      req.once('close', () => {
        if (!stopped && !req.complete) controller.error(new Error('request aborted'));
      });
    },
    pull() {
      req.resume();
    },
    cancel() {
      stopped = true;
      req.pause();
    },
  });
}

/**
 * RFC 9112 §9.6: a server that answers before reading the whole body must close the connection,
 * or the rest of the body would be read as the next request. It closes in stages (lingering
 * close): the response and a half-close go out, what the client still sends is read and dropped
 * for a moment, then the socket is closed, so the client is not reset before it reads the answer.
 * Call before the response's head is written.
 */
export function closeIfBodyUnread(req: IncomingMessage, res: ServerResponse): void {
  if (req.complete || req.method === 'GET' || req.method === 'HEAD') return;
  res.setHeader('connection', 'close');
  const socket = req.socket as Socket & { destroySoon?: () => void };
  // node:http ends a `connection: close` response with socket.destroySoon(), which destroys the
  // socket as soon as the response is flushed; unread input then makes the kernel send a reset.
  socket.destroySoon = () => {
    socket.end();
    lingerThenDestroy(socket);
  };
  req.removeAllListeners('data');
  req.on('data', () => {});
  req.resume();
}

/**
 * node:http's `clientError` listener: for a message Node's parser refuses (a malformed request
 * line or header), a 400 closed in stages like any other refusal, so the client reads it even
 * while it is still sending a body (Node's default closes at once, and the client is reset).
 *
 * @example server.on('clientError', refuseMalformedRequest)
 */
export function refuseMalformedRequest(err: NodeJS.ErrnoException, socket: Socket): void {
  if (err.code === 'ECONNRESET') {
    socket.destroy();
    return;
  }
  // The parser reports again for what arrives while we linger: the answer is already out.
  if (lingering.has(socket)) return;
  if (!socket.writable) {
    lingerThenDestroy(socket);
    return;
  }
  const body = JSON.stringify({ error: 'invalid_request', error_description: 'The request is malformed.' });
  socket.end(
    `HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-type: application/json\r\ncache-control: no-store\r\ncontent-length: ${body.length}\r\n\r\n${body}`,
  );
  lingerThenDestroy(socket);
}

/** Sockets closing in stages. */
const lingering = new WeakSet<Socket>();

/** After a half-close, read and drop what the client still sends, then close (RFC 9112 §9.6). */
function lingerThenDestroy(socket: Socket): void {
  lingering.add(socket);
  const timer = setTimeout(() => socket.destroy(), LINGER_MS);
  timer.unref();
  socket.once('close', () => clearTimeout(timer));
  socket.on('data', () => {});
  socket.resume();
}

/** A bare JSON refusal written by the transport itself (malformed target, transport failure). */
function writeRefusal(
  req: IncomingMessage,
  res: ServerResponse,
  status: 400 | 500 | 501,
  description?: string,
) {
  const body = JSON.stringify(
    status === 500 ? { error: 'server_error' } : { error: 'invalid_request', error_description: description },
  );
  closeIfBodyUnread(req, res);
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(body);
}

/** Responses that are whole documents; anything else (SSE, long polls, downloads) is streamed. */
const isDocument = (type: string | null) =>
  type !== null && /^(application\/([\w.+-]*\+)?json|text\/(html|css|plain))\b/i.test(type);

/** Writes a web Response to node:http, closing the connection when the request body was left unread. */
export async function writeResponse(
  response: Response,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const headers: Record<string, string | string[]> = {};
  response.headers.forEach((value, key) => {
    if (key !== 'set-cookie') headers[key] = value;
  });
  const cookies = response.headers.getSetCookie();
  if (cookies.length) headers['set-cookie'] = cookies;
  closeIfBodyUnread(req, res);
  const head = req.method === 'HEAD';
  if (!response.body || head) {
    await response.body?.cancel();
    res.writeHead(response.status, headers);
    res.end();
    return;
  }
  // A body whose text we already hold goes out as that text: one buffer with the head, no stream.
  const text = bodyTextOf(response);
  if (text !== undefined) {
    headers['content-length'] ??= String(Buffer.byteLength(text));
    res.writeHead(response.status, headers);
    res.end(text);
    return;
  }
  // A document goes out in one write with its length, rather than chunk by chunk.
  if (isDocument(response.headers.get('content-type'))) {
    const body = new Uint8Array(await response.arrayBuffer());
    headers['content-length'] ??= String(body.byteLength);
    res.writeHead(response.status, headers);
    res.end(body);
    return;
  }
  res.writeHead(response.status, headers);
  // Stream, so that long-lived responses (SSE, long polls) flow as they are produced; stop when
  // the client goes away.
  const reader = response.body.getReader();
  res.once('close', () => void reader.cancel().catch(() => {}));
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (!res.write(value)) {
        await new Promise((resolve) => {
          res.once('drain', resolve);
          res.once('close', resolve);
        });
      }
    }
  } catch {
    // The client went away mid-stream; nothing to report.
  }
  res.end();
}

import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { bodyTextOf } from '@gatehouse/core';

/** What the transport knows that a web Request does not. */
export interface RequestContext {
  remoteAddress?: string | undefined;
}

export type FetchHandler = (request: Request, context?: RequestContext) => Promise<Response>;

/**
 * Bodies that declare a length up to this are read into memory before the handler runs: cheaper
 * than a web stream over the socket, and no larger than what the form and JSON readers accept
 * anyway. Longer or chunked bodies are streamed, so the handler can refuse them unread.
 */
const BUFFERED_BODY_LIMIT = 64 * 1024;

/**
 * Adapts a web-standard handler to node:http. `origin` is the externally visible origin (the
 * issuer's), so that URLs are built from configuration rather than from the Host header.
 */
export interface NodeListenerOptions {
  /**
   * Behind a reverse proxy or load balancer: take the client's address from the last
   * `X-Forwarded-For` entry (the one the proxy appended) instead of the socket's. Only turn this
   * on when every request comes through such a proxy, or clients could forge their address.
   */
  trustProxy?: boolean;
}

/** The client's address: the socket peer, or with `trustProxy` the proxy's last X-Forwarded-For entry. */
export function clientAddress(req: IncomingMessage, trustProxy = false): string | undefined {
  const forwarded = trustProxy ? req.headers['x-forwarded-for'] : undefined;
  const last = (Array.isArray(forwarded) ? forwarded.join(',') : forwarded)?.split(',').at(-1)?.trim();
  return last || req.socket.remoteAddress;
}

export function toNodeListener(handler: FetchHandler, origin: string, options: NodeListenerOptions = {}) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    try {
      const method = req.method ?? 'GET';
      const headers = new Headers();
      for (let i = 0; i < req.rawHeaders.length; i += 2) {
        headers.append(req.rawHeaders[i] as string, req.rawHeaders[i + 1] as string);
      }
      const hasBody = method !== 'GET' && method !== 'HEAD';
      const body = hasBody ? await requestBody(req) : undefined;
      const request = new Request(requestUrl(req.url, origin), {
        method,
        headers,
        body,
        duplex: 'half',
      } as RequestInit);
      if (body instanceof Uint8Array) bufferedBodies.set(request, body);
      const response = await handler(request, { remoteAddress: clientAddress(req, options.trustProxy) });
      await writeResponse(response, res);
    } catch {
      // The handler already turns errors into responses; this is the transport failing. Once the
      // head is out, all that is left is to end the response (writeHead sets headersSent).
      if (res.headersSent) res.end();
      else res.writeHead(500, { 'content-type': 'application/json' }).end('{"error":"server_error"}');
    }
  };
}

/** Bodies this adapter read into memory, by request (see `bufferedBodyOf`). */
const bufferedBodies = new WeakMap<Request, Uint8Array>();

/**
 * The body of a request whose bytes the adapter already holds, while it is unread; `undefined`
 * otherwise (then read `request.body`). Reading the bytes is much cheaper than iterating the
 * Request's web stream over them; the Request's own body stays intact for anyone else.
 */
export function bufferedBodyOf(request: Request): Uint8Array | undefined {
  return request.bodyUsed ? undefined : bufferedBodies.get(request);
}

/**
 * The request's URL on the configured origin. An origin-form target (`/path?query`, RFC 9112 §3.2.1)
 * is appended as is and parsed once, by the Request constructor; even `//host/path` stays a path
 * here rather than naming another host. Anything else (absolute-form, `*`) is resolved against the
 * origin.
 */
function requestUrl(target: string | undefined, origin: string): string | URL {
  if (target === undefined) return `${origin}/`;
  if (target.charCodeAt(0) === 47 /* / */) return origin + target;
  return new URL(target, origin);
}

/** A small body of declared length as bytes; anything else as a stream. */
function requestBody(req: IncomingMessage): Promise<Uint8Array> | ReadableStream {
  const declared = req.headers['content-length'];
  if (req.headers['transfer-encoding'] !== undefined || declared === undefined) {
    return Readable.toWeb(req) as ReadableStream;
  }
  const length = Number(declared);
  if (!(length <= BUFFERED_BODY_LIMIT)) return Readable.toWeb(req) as ReadableStream;
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

/** Responses that are whole documents; anything else (SSE, long polls, downloads) is streamed. */
const isDocument = (type: string | null) =>
  type !== null && /^(application\/([\w.+-]*\+)?json|text\/(html|css|plain))\b/i.test(type);

async function writeResponse(response: Response, res: ServerResponse): Promise<void> {
  const headers: Record<string, string | string[]> = {};
  response.headers.forEach((value, key) => {
    if (key !== 'set-cookie') headers[key] = value;
  });
  const cookies = response.headers.getSetCookie();
  if (cookies.length) headers['set-cookie'] = cookies;
  if (!response.body) {
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
  // Stream, so that long-lived responses (SSE, long polls) flow as they are produced.
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
    if (!res.write(chunk)) await new Promise((resolve) => res.once('drain', resolve));
  }
  res.end();
}

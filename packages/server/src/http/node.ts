import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';

/** What the transport knows that a web Request does not. */
export interface RequestContext {
  remoteAddress?: string | undefined;
}

export type FetchHandler = (request: Request, context?: RequestContext) => Promise<Response>;

/**
 * Adapts a web-standard handler to node:http. `origin` is the externally visible origin (the
 * issuer's), so that URLs are built from configuration rather than from the Host header.
 */
export function toNodeListener(handler: FetchHandler, origin: string) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    try {
      const method = req.method ?? 'GET';
      const headers = new Headers();
      for (let i = 0; i < req.rawHeaders.length; i += 2) {
        headers.append(req.rawHeaders[i] as string, req.rawHeaders[i + 1] as string);
      }
      const hasBody = method !== 'GET' && method !== 'HEAD';
      const request = new Request(new URL(req.url ?? '/', origin), {
        method,
        headers,
        body: hasBody ? (Readable.toWeb(req) as ReadableStream) : undefined,
        duplex: 'half',
      } as RequestInit);
      const response = await handler(request, { remoteAddress: req.socket.remoteAddress });
      await writeResponse(response, res);
    } catch {
      // The handler already turns errors into responses; this is the transport failing.
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
      res.end(res.headersSent ? undefined : '{"error":"server_error"}');
    }
  };
}

async function writeResponse(response: Response, res: ServerResponse): Promise<void> {
  const headers: Record<string, string | string[]> = {};
  response.headers.forEach((value, key) => {
    if (key !== 'set-cookie') headers[key] = value;
  });
  const cookies = response.headers.getSetCookie();
  if (cookies.length) headers['set-cookie'] = cookies;
  res.writeHead(response.status, headers);
  if (!response.body) {
    res.end();
    return;
  }
  // Stream, so that long-lived responses (SSE, long polls) flow as they are produced.
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
    if (!res.write(chunk)) await new Promise((resolve) => res.once('drain', resolve));
  }
  res.end();
}

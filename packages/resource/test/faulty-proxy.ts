/**
 * A reverse proxy on 127.0.0.1 in front of the test authorization server that can fail on
 * command, per path: `down` resets the connection (an AS that is not running), `hang` accepts the
 * request and never answers (an AS that is stuck). Real sockets, so deadlines and aborts are
 * exercised the way they are in production.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type Fault = 'down' | 'hang' | undefined;

export interface FaultyProxy {
  base: string;
  /** Decides, per request path, whether (and how) to fail. Default: pass everything through. */
  fault: (path: string) => Fault;
  /** Rewrites URLs of `upstream` to go through the proxy: give it to the guard as `fetch`. */
  fetch: typeof fetch;
  /** Cuts every open connection (a long poll in flight fails as if the AS had died). */
  cut(): void;
  close(): Promise<void>;
}

export async function startFaultyProxy(upstream: string): Promise<FaultyProxy> {
  const server = createServer((req, res) => void forward(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const proxy: FaultyProxy = {
    base,
    fault: () => undefined,
    fetch: (input, init) =>
      fetch(String(input instanceof Request ? input.url : input).replace(upstream, base), init),
    cut: () => server.closeAllConnections(),
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };

  async function forward(req: IncomingMessage, res: ServerResponse) {
    const path = new URL(req.url ?? '/', base).pathname;
    const fault = proxy.fault(path);
    if (fault === 'down') return req.socket.destroy();
    if (fault === 'hang') return; // the socket stays open, nothing is ever written
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const gone = new AbortController();
    res.on('close', () => gone.abort());
    try {
      const answer = await fetch(`${upstream}${req.url}`, {
        method: req.method ?? 'GET',
        headers: Object.entries(req.headers).flatMap(([k, v]) =>
          typeof v === 'string' && k !== 'host' && k !== 'connection' ? [[k, v] as [string, string]] : [],
        ),
        ...(chunks.length ? { body: Buffer.concat(chunks) } : {}),
        signal: gone.signal,
      });
      const body = Buffer.from(await answer.arrayBuffer());
      res.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'text/plain' });
      res.end(body);
    } catch {
      res.destroy();
    }
  }
  return proxy;
}

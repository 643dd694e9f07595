import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Listens on 127.0.0.1 on a free port; returns the origin, e.g. `http://127.0.0.1:40123`. */
export async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** Closes a server and every connection it still holds (keep-alive sockets would delay the close). */
export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

/** A loopback HTTP server for a test; `url` is its origin. */
export async function startLoopbackServer(listener: RequestListener): Promise<{
  server: Server;
  url: string;
  close(): Promise<void>;
}> {
  const server = createServer(listener);
  const url = await listen(server);
  return { server, url, close: () => closeServer(server) };
}

/** A free port on 127.0.0.1 (for tools that insist on being given one, like the conformance suite). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await listen(server);
  const { port } = server.address() as AddressInfo;
  await closeServer(server);
  return port;
}

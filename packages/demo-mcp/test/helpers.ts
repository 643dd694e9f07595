import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { toNodeListener } from '@gatehouse/resource';
import { type ProtectDemoOptions, protectDemo } from '../src/index.ts';

/** The protected demo on a real 127.0.0.1 port, with its data in a fresh temp folder. */
export async function startProtectedDemo(options: Omit<ProtectDemoOptions, 'dataDir' | 'resource'>) {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'gatehouse-demo-'));
  let handler: (request: Request) => Promise<Response> = async () => new Response(null, { status: 503 });
  let origin = '';
  const server: Server = createServer((req, res) => toNodeListener((r) => handler(r), origin)(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const resource = `${origin}/mcp`;
  const protectedDemo = protectDemo({ ...options, dataDir, resource });
  handler = protectedDemo.fetch;
  return {
    ...protectedDemo,
    resource,
    origin,
    dataDir,
    async close() {
      await protectedDemo.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

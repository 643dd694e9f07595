/**
 * The gateway's floor: the bare SDK-to-SDK proxy anyone could write in twenty lines, with no
 * Gatehouse in between (no token, no guard, no scopes, no audit, no pool). The SDK v2 server side
 * (`createMcpHandler`, a `Server` per request, as the SDK documents) forwards `tools/call` to one
 * SDK v2 `Client` connected once to the upstream; served through the same Node adapter as
 * Gatehouse. Whatever it costs, a gateway built on the SDK cannot cost less.
 *
 * Usage (from bench/gateway.ts): node bench/contenders/mcp-proxy.ts UPSTREAM_URL; prints
 * `listening <url>`.
 */
import { createServer } from 'node:http';
import { toNodeListener } from '@gatehouse/core';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { createMcpHandler, Server } from '@modelcontextprotocol/server';

const upstream = process.argv[2];
if (!upstream) throw new Error('usage: node bench/contenders/mcp-proxy.ts UPSTREAM_URL');
const client = new Client({ name: 'bench-proxy', version: '1.0.0' });
await client.connect(new StreamableHTTPClientTransport(new URL(upstream)));

const handler = createMcpHandler(() => {
  const server = new Server({ name: 'bench-proxy', version: '1.0.0' }, { capabilities: { tools: {} } });
  server.setRequestHandler('tools/call', (request) => client.callTool(request.params));
  return server;
});

const http = createServer();
http.listen(0, '127.0.0.1', () => {
  const address = http.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  const origin = `http://127.0.0.1:${address.port}`;
  http.on(
    'request',
    toNodeListener((request) => handler.fetch(request), origin),
  );
  process.stdout.write(`listening ${origin}/mcp\n`);
});
process.on('SIGTERM', () => {
  http.close();
  void client.close().finally(() => process.exit(0));
});

import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { toNodeListener } from '@gatehouse/core';
import type { Client } from '@modelcontextprotocol/client';
import { createMcpHandler } from '@modelcontextprotocol/server';
import { UpstreamError, UpstreamPool } from './pool.ts';
import { createFixtureServer } from './testing/fixture-server.ts';

/** The fixture over Streamable HTTP on 127.0.0.1, recording the headers of every request it gets. */
async function httpUpstream(options: { port?: number; requireKey?: string } = {}) {
  const seen: Headers[] = [];
  const handler = createMcpHandler(() => createFixtureServer('http'));
  const fetchHandler = async (request: Request) => {
    seen.push(request.headers);
    if (options.requireKey !== undefined && request.headers.get('x-upstream-key') !== options.requireKey) {
      return new Response('no', { status: 401 });
    }
    return handler.fetch(request);
  };
  const server: Server = createServer(toNodeListener(fetchHandler, 'http://127.0.0.1'));
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const stop = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return { url: `http://127.0.0.1:${port}/mcp`, port, seen, stop };
}

async function call(client: Client, name: string, args: Record<string, unknown> = {}) {
  const result = await client.request({ method: 'tools/call', params: { name, arguments: args } });
  const content = result.content as Array<{ type: string; text: string }>;
  return JSON.parse(content[0]?.text ?? 'null');
}

async function rejection(promise: Promise<unknown>): Promise<UpstreamError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof UpstreamError, String(error));
    return error;
  }
  assert.fail('expected a rejection');
}

test('MCP security §Token passthrough: an HTTP upstream gets the configured static headers and no Authorization of the client', async () => {
  const upstream = await httpUpstream({ requireKey: 'k-123' });
  const pool = new UpstreamPool({
    servers: { web: { url: upstream.url, headers: { 'x-upstream-key': 'k-123' }, timeoutMs: 5_000 } },
    log: () => {},
  });
  try {
    const client = await pool.client('web', 'alice');
    assert.equal((await call(client, 'whoami')).label, 'http');
    assert.ok(upstream.seen.length >= 2);
    for (const headers of upstream.seen) {
      assert.equal(headers.get('x-upstream-key'), 'k-123');
      assert.equal(headers.get('authorization'), null);
    }
    assert.deepEqual(pool.status(), [{ server: 'web', transport: 'http', running: 1 }]);
  } finally {
    await pool.close();
    await upstream.stop();
  }
});

test('MCP lifecycle §Timeouts: an HTTP upstream slower than timeoutMs fails as timeout, naming the server', async () => {
  const upstream = await httpUpstream();
  const pool = new UpstreamPool({ servers: { web: { url: upstream.url, timeoutMs: 300 } }, log: () => {} });
  try {
    const client = await pool.client('web', 'alice');
    const error = await rejection(call(client, 'slow'));
    assert.deepEqual(
      [error.reason, error.message],
      ['timeout', 'The MCP server "web" did not answer within 300 ms.'],
    );
    assert.equal((await call(client, 'slow', { ms: 0 })).waited, 0, 'the connection serves on');
  } finally {
    await pool.close();
    await upstream.stop();
  }
});

test('MCP lifecycle §Timeouts: an HTTP upstream that accepts and never answers fails as timeout, not a hang', async () => {
  const silent = createServer(() => {});
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  const { port } = silent.address() as AddressInfo;
  const pool = new UpstreamPool({
    servers: { web: { url: `http://127.0.0.1:${port}/mcp`, timeoutMs: 300 } },
    log: () => {},
  });
  try {
    const error = await rejection(pool.client('web', 'alice'));
    assert.equal(error.reason, 'timeout');
    assert.equal(error.message, 'The MCP server "web" did not answer within 300 ms.');
  } finally {
    await pool.close();
    silent.closeAllConnections();
    await new Promise((resolve) => silent.close(resolve));
  }
});

test('MCP Streamable HTTP: a refused or unreachable upstream fails clearly, and the next request reconnects once it is back', async () => {
  const refusing = await httpUpstream({ requireKey: 'right' });
  const refusedPool = new UpstreamPool({
    servers: { web: { url: refusing.url, headers: { 'x-upstream-key': 'wrong' }, timeoutMs: 5_000 } },
    log: () => {},
  });
  try {
    const refused = await rejection(refusedPool.client('web', 'alice'));
    assert.equal(refused.reason, 'refused');
    assert.equal(
      refused.message,
      'The MCP server "web" refused the gateway (HTTP 401); check the headers configured for it.',
    );
  } finally {
    await refusedPool.close();
    await refusing.stop();
  }

  let upstream = await httpUpstream();
  const pool = new UpstreamPool({ servers: { web: { url: upstream.url, timeoutMs: 5_000 } }, log: () => {} });
  try {
    const client = await pool.client('web', 'alice');
    assert.equal((await call(client, 'whoami')).label, 'http');
    await upstream.stop();
    const down = await rejection(call(client, 'whoami'));
    assert.deepEqual([down.reason, down.message], ['unavailable', 'The MCP server "web" cannot be reached.']);
    assert.equal(pool.status()[0]?.running, 0);
    assert.equal(pool.status()[0]?.lastError, down.message);
    upstream = await httpUpstream({ port: upstream.port });
    assert.equal((await call(await pool.client('web', 'alice'), 'whoami')).label, 'http');
    assert.equal(pool.status()[0]?.running, 1);
  } finally {
    await pool.close();
    await upstream.stop();
  }
});

test('MCP security §Token passthrough: an upstream that redirects elsewhere is refused, and the configured key never follows', async () => {
  const elsewhere = await httpUpstream();
  const redirecting: Server = createServer((_req, res) => {
    res.writeHead(307, { location: elsewhere.url }).end();
  });
  await new Promise<void>((resolve) => redirecting.listen(0, '127.0.0.1', resolve));
  const { port } = redirecting.address() as AddressInfo;
  const pool = new UpstreamPool({
    servers: {
      web: { url: `http://127.0.0.1:${port}/mcp`, headers: { 'x-upstream-key': 'k-123' }, timeoutMs: 5_000 },
    },
    log: () => {},
  });
  try {
    const error = await rejection(pool.client('web', 'alice'));
    assert.ok(['unavailable', 'refused'].includes(error.reason), error.reason);
    assert.equal(elsewhere.seen.length, 0, 'the redirect target never heard from the gateway');
  } finally {
    await pool.close();
    redirecting.closeAllConnections();
    await new Promise<void>((resolve) => redirecting.close(() => resolve()));
    await elsewhere.stop();
  }
});

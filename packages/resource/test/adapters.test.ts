import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { type AddressInfo, connect } from 'node:net';
import { after, before, test } from 'node:test';
import { McpServer as McpServerV1 } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import express from 'express';
import { Hono } from 'hono';
import {
  type AuthInfo,
  createGuard,
  expressGuard,
  type Guard,
  guardNodeHandler,
  honoGuard,
  toNodeListener,
} from '../src/index.ts';
import { startTestAuthorizationServer, type TestAuthorizationServer } from './fixture-as.ts';

let as: TestAuthorizationServer;
before(async () => {
  as = await startTestAuthorizationServer();
});
after(() => as.close());

/** Listens on 127.0.0.1:0 first, so the guard can be created for the real resource URL. */
async function listen(make: (guard: Guard) => Parameters<typeof createServer>[1]) {
  let listener: Parameters<typeof createServer>[1] = () => {};
  const server: Server = createServer((req, res) => listener?.(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const resource = `http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`;
  const guard = createGuard({
    resource,
    authorizationServers: [as.issuer],
    manifest: { tools: { echo: 'tools:execute:echo' } },
  });
  listener = make(guard);
  return {
    resource,
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const call = (resource: string, token: string | undefined, body: unknown) =>
  fetch(resource, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: JSON.stringify(body),
  });

test('node:http adapter: the official v1 SDK server (StreamableHTTPServerTransport) sees the caller in authInfo', async () => {
  const srv = await listen((guard) =>
    guardNodeHandler(guard, async (req, res, parsedBody) => {
      const mcp = new McpServerV1({ name: 'v1', version: '1.0.0' });
      mcp.registerTool('echo', { description: 'who am I' }, async (extra) => ({
        content: [
          { type: 'text', text: `${extra.authInfo?.clientId}/${(extra.authInfo as AuthInfo).subject}` },
        ],
      }));
      const transport = new StreamableHTTPServerTransport({
        sessionIdGenerator: undefined,
        enableJsonResponse: true,
      });
      await mcp.connect(transport);
      await transport.handleRequest(req, res, parsedBody);
    }),
  );
  try {
    const token = await as.mint({
      aud: srv.resource,
      scope: 'tools:execute',
      sub: 'alice',
      client_id: 'cli',
    });
    const body = { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'echo', arguments: {} } };
    const res = await call(srv.resource, token, body);
    assert.equal(res.status, 200);
    assert.equal((await res.json()).result.content[0].text, 'cli/alice');
    const meta = await fetch(new URL('/.well-known/oauth-protected-resource/mcp', srv.resource));
    assert.equal((await meta.json()).resource, srv.resource);
    assert.equal((await call(srv.resource, undefined, body)).status, 401);
    const narrow = await as.mint({ aud: srv.resource, scope: 'tools:list' });
    assert.equal((await call(srv.resource, narrow, body)).status, 403);
  } finally {
    await srv.close();
  }
});

test('Express adapter: req.auth is set behind express.json(), challenges are answered', async () => {
  const srv = await listen((guard) => {
    const app = express();
    app.use(express.json());
    app.use('/mcp', expressGuard(guard));
    app.post('/mcp', (req, res) => {
      res.json({ sub: (req as unknown as { auth: AuthInfo }).auth.subject, method: req.body.method });
    });
    return app;
  });
  try {
    const token = await as.mint({ aud: srv.resource, scope: 'tools:list', sub: 'bob' });
    const res = await call(srv.resource, token, { jsonrpc: '2.0', id: 1, method: 'tools/list' });
    assert.deepEqual(await res.json(), { sub: 'bob', method: 'tools/list' });
    const denied = await call(srv.resource, token, {
      jsonrpc: '2.0',
      id: 1,
      method: 'tools/call',
      params: { name: 'echo' },
    });
    assert.equal(denied.status, 403);
    assert.match(denied.headers.get('www-authenticate') ?? '', /scope="tools:execute:echo"/);
  } finally {
    await srv.close();
  }
});

test('Hono adapter: c.get("auth") carries the caller, and the raw request stays readable', async () => {
  const guard = createGuard({ resource: 'http://127.0.0.1:9/mcp', authorizationServers: [as.issuer] });
  const app = new Hono<{ Variables: { auth: AuthInfo } }>();
  app.use('*', honoGuard(guard));
  app.post('/mcp', async (c) => c.json({ sub: c.get('auth').subject, body: await c.req.json() }));
  const token = await as.mint({ aud: 'http://127.0.0.1:9/mcp', scope: 'tools:list', sub: 'carol' });
  const res = await app.request('http://127.0.0.1:9/mcp', {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
  });
  assert.equal(res.status, 200);
  assert.equal((await res.json()).sub, 'carol');
  const meta = await app.request('http://127.0.0.1:9/.well-known/oauth-protected-resource/mcp');
  assert.equal(meta.status, 200);
});

/** A raw request whose body is larger than the guard reads; the answer and what follows it. */
async function oversized(
  resource: string,
): Promise<{ status: number; connection: string | undefined; next: number }> {
  const { port } = new URL(resource);
  const socket = connect({ host: '127.0.0.1', port: Number(port), allowHalfOpen: true });
  await new Promise((resolve) => socket.once('connect', resolve));
  let received = '';
  socket.on('data', (chunk: Buffer) => {
    received += chunk.toString('latin1');
  });
  const ended = new Promise((resolve) => socket.once('close', resolve));
  socket.write(
    'POST /mcp HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n',
  );
  const chunk = 'x'.repeat(16 * 1024);
  // 2 MiB of a chunked body, more than the 1 MiB limit below; the server must answer anyway.
  for (let i = 0; i < 128; i++) socket.write(`${chunk.length.toString(16)}\r\n${chunk}\r\n`);
  socket.end('0\r\n\r\n');
  await ended;
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(received)?.[1]);
  const connection = /\r\nconnection: ([^\r]+)/i.exec(received)?.[1];
  const next = (await fetch(resource, { method: 'POST', body: '{}' })).status;
  return { status, connection, next };
}

for (const [name, make] of [
  ['guardNodeHandler', (guard: Guard) => guardNodeHandler(guard, () => {}, { maxBodyBytes: 1024 * 1024 })],
  [
    'toNodeListener(guard.wrap(...))',
    (guard: Guard) =>
      toNodeListener(
        guard.wrap(async () => new Response(null)),
        new URL(guard.resource).origin,
      ),
  ],
] as const) {
  test(`RFC 9112 §9.6: ${name} answers an over-limit body with 413 and closes the connection, then serves the next`, async () => {
    const srv = await listen((guard) =>
      name === 'guardNodeHandler'
        ? make(guard)
        : make(
            createGuard({
              resource: guard.resource,
              authorizationServers: [as.issuer],
              maxBodyBytes: 1024 * 1024,
            }),
          ),
    );
    try {
      const { status, connection, next } = await oversized(srv.resource);
      assert.equal(status, 413);
      assert.equal(connection?.toLowerCase(), 'close');
      assert.equal(next, 401, 'a fresh connection gets the usual challenge');
    } finally {
      await srv.close();
    }
  });
}

import assert from 'node:assert/strict';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { connect } from 'node:net';
import { after, before, test } from 'node:test';
import {
  clientAddress,
  errorResponse,
  type HttpHandler,
  jsonResponse,
  OAuthError,
  refuseMalformedRequest,
  toNodeListener,
} from '@gatehouse/core';
import { readForm } from './form.ts';

let server: Server;
let origin: string;
let handler: HttpHandler;

before(async () => {
  server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  server.on(
    'request',
    toNodeListener((request, context) => handler(request, context), origin),
  );
  server.on('clientError', refuseMalformedRequest);
});
after(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

/** A raw request, so that the test sees the exact framing (Content-Length or chunked). */
function send(
  path: string,
  options: { method?: string; headers?: Record<string, string>; body?: string | string[] } = {},
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${origin}${path}`, {
      method: options.method ?? 'GET',
      headers: options.headers,
    });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks).toString(),
        }),
      );
    });
    req.on('error', reject);
    for (const part of [options.body ?? []].flat()) req.write(part);
    req.end();
  });
}

test('a small form body reaches the handler whole, with its headers, method and URL', async () => {
  handler = async (request, context) =>
    Response.json({
      method: request.method,
      url: request.url,
      type: request.headers.get('content-type'),
      body: await request.text(),
      remote: context?.remoteAddress,
    });
  const res = await send('/oauth/token?x=1', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: 'grant_type=client_credentials&scope=a+b',
  });
  assert.equal(res.status, 200);
  assert.deepEqual(JSON.parse(res.body), {
    method: 'POST',
    url: `${origin}/oauth/token?x=1`,
    type: 'application/x-www-form-urlencoded',
    body: 'grant_type=client_credentials&scope=a+b',
    remote: '127.0.0.1',
  });
});

test('a chunked request body (no declared length) is streamed to the handler', async () => {
  handler = async (request) =>
    new Response(await request.text(), { headers: { 'content-type': 'text/plain' } });
  const res = await send('/echo', {
    method: 'POST',
    headers: { 'transfer-encoding': 'chunked' },
    body: ['first ', 'second'],
  });
  assert.equal(res.body, 'first second');
});

test('a body declared larger than the buffering limit is streamed, so the handler may refuse it unread', async () => {
  let sawStream = false;
  handler = async (request) => {
    sawStream = request.body instanceof ReadableStream;
    return Response.json({ error: 'invalid_request' }, { status: 400 });
  };
  const big = 'a'.repeat(100 * 1024);
  const res = await send('/oauth/token', { method: 'POST', body: big });
  assert.equal(res.status, 400);
  assert.ok(sawStream);
});

test('JSON and HTML documents go out whole with a Content-Length, not chunked', async () => {
  handler = async () =>
    new Response('{"access_token":"x"}', {
      headers: { 'content-type': 'application/json', 'cache-control': 'no-store' },
    });
  const res = await send('/oauth/token', { method: 'POST', body: 'a=b' });
  assert.equal(res.headers['content-length'], String('{"access_token":"x"}'.length));
  assert.equal(res.headers['transfer-encoding'], undefined);
  assert.equal(res.headers['cache-control'], 'no-store');
  assert.equal(res.body, '{"access_token":"x"}');
});

test('an event stream flows chunk by chunk as it is produced', async () => {
  let close: () => void = () => {};
  handler = async () =>
    new Response(
      new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(new TextEncoder().encode('data: one\n\n'));
          close = () => controller.close();
        },
      }),
      { headers: { 'content-type': 'text/event-stream' } },
    );
  const first = await new Promise<string>((resolve, reject) => {
    const req = httpRequest(`${origin}/events`);
    req.on('response', (res) => {
      assert.equal(res.headers['transfer-encoding'], 'chunked');
      res.once('data', (chunk: Buffer) => {
        resolve(chunk.toString());
        res.resume();
        close();
      });
    });
    req.on('error', reject);
    req.end();
  });
  assert.equal(first, 'data: one\n\n', 'the first event arrives while the stream is still open');
});

test('several Set-Cookie headers stay separate', async () => {
  handler = async () => {
    const headers = new Headers({ 'content-type': 'text/html' });
    headers.append('set-cookie', 'a=1; Path=/');
    headers.append('set-cookie', 'b=2; Path=/');
    return new Response('<p>ok</p>', { headers });
  };
  const res = await send('/page');
  assert.deepEqual(res.headers['set-cookie'], ['a=1; Path=/', 'b=2; Path=/']);
  assert.equal(res.body, '<p>ok</p>');
});

test('a handler that throws becomes a bare server_error', async () => {
  handler = async () => {
    throw new Error('secret detail');
  };
  const res = await send('/boom');
  assert.equal(res.status, 500);
  assert.equal(res.body, '{"error":"server_error"}');
});

test('a jsonResponse goes out as its text with an exact Content-Length, multi-byte characters included', async () => {
  handler = async () => jsonResponse({ name: 'Zoë ✓' }, 201, { 'x-extra': 'yes' });
  const res = await send('/doc');
  assert.equal(res.status, 201);
  assert.equal(res.body, '{"name":"Zoë ✓"}');
  assert.equal(res.headers['content-length'], String(Buffer.byteLength(res.body)));
  assert.equal(res.headers['cache-control'], 'no-store');
  assert.equal(res.headers['x-extra'], 'yes');
  assert.equal(res.headers['transfer-encoding'], undefined);
});

test('RFC 6749 §5.2: an errorResponse keeps its status and challenge header through the adapter', async () => {
  handler = async () =>
    errorResponse(new OAuthError('invalid_client', 'no', { headers: { 'www-authenticate': 'Basic' } }));
  const res = await send('/err');
  assert.equal(res.status, 401);
  assert.deepEqual(JSON.parse(res.body), { error: 'invalid_client', error_description: 'no' });
  assert.equal(res.headers['www-authenticate'], 'Basic');
});

test('a buffered form body is read once by readForm and still readable as the Request body', async () => {
  handler = async (request) => {
    const form = await readForm(request);
    return Response.json({ form: Object.fromEntries(form), again: await request.text() });
  };
  const body = 'a=1&b=%C3%A9';
  const res = await send('/f', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': String(body.length) },
    body,
  });
  assert.deepEqual(JSON.parse(res.body), { form: { a: '1', b: 'é' }, again: body });
});

test('a target starting with // stays a path on the configured origin', async () => {
  handler = async (request) => Response.json({ url: request.url });
  const res = await send('//elsewhere.example/x?y=1');
  assert.equal(JSON.parse(res.body).url, `${origin}//elsewhere.example/x?y=1`);
});

test('trustProxy: the client address is the last X-Forwarded-For entry, and only when trusted', () => {
  const req = (xff?: string | string[]) =>
    ({
      headers: xff === undefined ? {} : { 'x-forwarded-for': xff },
      socket: { remoteAddress: '127.0.0.1' },
    }) as never;
  assert.equal(clientAddress(req('203.0.113.9, 198.51.100.7')), '127.0.0.1', 'untrusted: the socket peer');
  assert.equal(
    clientAddress(req('203.0.113.9, 198.51.100.7'), true),
    '198.51.100.7',
    'the entry the proxy appended',
  );
  assert.equal(clientAddress(req(['203.0.113.9', '198.51.100.8']), true), '198.51.100.8');
  assert.equal(clientAddress(req(), true), '127.0.0.1', 'no header: the socket peer');
});

test('RFC 9112 §9.6: a message the parser refuses gets a 400 the client can read, even while it still sends a body', async () => {
  const { port } = new URL(origin);
  const socket = connect({ host: '127.0.0.1', port: Number(port), allowHalfOpen: true });
  let received = '';
  let reset = false;
  socket.on('data', (chunk: Buffer) => {
    received += chunk.toString('latin1');
  });
  socket.on('error', () => {
    reset = true;
  });
  const closed = new Promise((resolve) => socket.once('close', resolve));
  socket.once('connect', () => {
    socket.write('get / HTTP/1.1\r\nhost: x\r\ncontent-length: 1048576\r\n\r\n');
    socket.end('a'.repeat(1024 * 1024));
  });
  await closed;
  assert.match(received, /^HTTP\/1\.1 400 /);
  assert.match(received, /"error":"invalid_request"/);
  assert.equal(reset, false, 'closed in stages, not reset');
});

test('an absolute-form target keeps only its path and query, on the configured origin', async () => {
  handler = async (request) => Response.json({ url: request.url });
  const socket = connect({ host: '127.0.0.1', port: Number(new URL(origin).port) });
  let received = '';
  socket.on('data', (chunk: Buffer) => {
    received += chunk.toString('latin1');
  });
  const closed = new Promise((resolve) => socket.once('close', resolve));
  socket.write('GET http://evil.example/mcp?x=1 HTTP/1.1\r\nhost: evil.example\r\nconnection: close\r\n\r\n');
  await closed;
  assert.ok(received.includes(`"url":"${origin}/mcp?x=1"`), received);
});

/**
 * The fetcher against real HTTP servers on 127.0.0.1. Host names are answered by an injected
 * resolver, so no test ever asks DNS or connects anywhere but loopback: refusals of other addresses
 * happen before a socket exists, which the `net.client.socket` diagnostics channel proves.
 */
import assert from 'node:assert/strict';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, test } from 'node:test';
import { OAuthError } from '@gatehouse/core';
import type { ResolvedAddress } from './fetch-document.ts';
import type { CimdFetcherOptions } from './fetcher.ts';
import { createCimdFetcher } from './fetcher.ts';

let socketsCreated = 0;
const countSocket = () => {
  socketsCreated++;
};
subscribe('net.client.socket', countSocket);
after(() => unsubscribe('net.client.socket', countSocket));

interface TestServer {
  origin: string;
  port: number;
  connections: () => number;
  requests: { url: string; headers: IncomingHttpHeaders }[];
  close: () => Promise<void>;
}

async function serve(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<TestServer> {
  let connections = 0;
  const requests: TestServer['requests'] = [];
  const server = createServer((req, res) => {
    requests.push({ url: req.url ?? '', headers: req.headers });
    handler(req, res);
  });
  server.on('connection', () => connections++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    port,
    connections: () => connections,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Serves `body` (a document naming `client_id` by default) as JSON with the given headers. */
function documentHandler(
  body: (clientId: string) => unknown = (clientId) => ({
    client_id: clientId,
    client_name: 'Loopback Test Client',
    redirect_uris: ['http://127.0.0.1:33418/callback'],
  }),
  headers: Record<string, string> = {},
) {
  return (req: IncomingMessage, res: ServerResponse) => {
    const clientId = `http://${req.headers.host}${req.url}`;
    res.writeHead(200, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(body(clientId)));
  };
}

/** Development options that let the fetcher reach a plain-http loopback server. */
const dev: CimdFetcherOptions = { dangerouslyAllowPrivateNetworks: true, dangerouslyAllowInsecureHttp: true };

async function refusal(promise: Promise<unknown>): Promise<OAuthError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof OAuthError, `expected an OAuthError, got ${String(err)}`);
    assert.equal(err.code, 'invalid_client');
    return err;
  }
  assert.fail('the fetch succeeded');
}

function tableResolver(table: Record<string, string[]>) {
  const calls: string[] = [];
  const resolve = async (hostname: string): Promise<ResolvedAddress[]> => {
    calls.push(hostname);
    return (table[hostname] ?? []).map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  };
  return { resolve, calls };
}

const specialUse = [
  '127.0.0.1',
  '127.1.2.3',
  '::1',
  '0.0.0.0',
  '::',
  '10.0.0.5',
  '172.20.1.1',
  '192.168.0.10',
  '169.254.169.254',
  '100.64.1.1',
  'fc00::1',
  'fd00:ec2::254',
  'fe80::1',
  '::ffff:127.0.0.1',
  '::ffff:169.254.169.254',
  '::ffff:a00:5',
  '224.0.0.251',
  'ff02::1',
] as const;

for (const address of specialUse) {
  test(`CIMD §6.5 SSRF: a client_id host resolving to ${address} is refused before any connection`, async () => {
    const { resolve, calls } = tableResolver({ 'client.example': [address] });
    const fetcher = createCimdFetcher({ resolve });
    const before = socketsCreated;
    const err = await refusal(fetcher.fetchClientMetadata('https://client.example/oauth/client.json'));
    assert.equal(socketsCreated, before);
    assert.deepEqual(calls, ['client.example']);
    assert.doesNotMatch(err.message, new RegExp(address.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
  });
}

test('CIMD §6.5 SSRF: one special-use address among public ones refuses the whole host, with no connection', async () => {
  const { resolve } = tableResolver({
    'client.example': ['93.184.215.14', '2606:4700::6810:84e5', '10.0.0.1'],
  });
  const before = socketsCreated;
  await refusal(createCimdFetcher({ resolve }).fetchClientMetadata('https://client.example/c.json'));
  assert.equal(socketsCreated, before);
});

test('CIMD §6.5 SSRF: IP-literal client_id URLs for special-use addresses are refused with no connection', async () => {
  const { resolve, calls } = tableResolver({});
  const fetcher = createCimdFetcher({ resolve });
  const before = socketsCreated;
  for (const clientId of [
    'https://127.0.0.1/client.json',
    'https://[::1]/client.json',
    'https://[::ffff:7f00:1]/client.json',
    'https://169.254.169.254/latest/meta-data',
    'https://0x7f.1/client.json',
  ]) {
    await refusal(fetcher.fetchClientMetadata(new URL(clientId).href));
  }
  assert.equal(socketsCreated, before);
  assert.deepEqual(calls, [], 'IP literals are not resolved');
});

test('CIMD §6.5 SSRF: a real loopback server is never contacted without the private-network opt-in', async () => {
  const server = await serve(documentHandler());
  try {
    const { resolve } = tableResolver({ localhost: ['127.0.0.1'], 'rebind.example': ['127.0.0.1'] });
    const fetcher = createCimdFetcher({ resolve, dangerouslyAllowInsecureHttp: true });
    await refusal(fetcher.fetchClientMetadata(`${server.origin}/client.json`));
    await refusal(fetcher.fetchClientMetadata(`http://localhost:${server.port}/client.json`));
    await refusal(fetcher.fetchClientMetadata(`http://rebind.example:${server.port}/client.json`));
    await refusal(fetcher.fetchClientMetadata(`http://[::ffff:7f00:1]:${server.port}/client.json`));
    assert.equal(server.connections(), 0);
  } finally {
    await server.close();
  }
});

test('CIMD §3: http client_id URLs are refused without the insecure-http opt-in, before any connection', async () => {
  const server = await serve(documentHandler());
  try {
    const fetcher = createCimdFetcher({ dangerouslyAllowPrivateNetworks: true });
    await refusal(fetcher.fetchClientMetadata(`${server.origin}/client.json`));
    assert.equal(server.connections(), 0);
  } finally {
    await server.close();
  }
});

test('CIMD §4: with both development opt-ins a loopback document is fetched, validated and defaulted', async () => {
  const server = await serve(documentHandler());
  try {
    const clientId = `${server.origin}/oauth/client.json`;
    const document = await createCimdFetcher(dev).fetchClientMetadata(clientId);
    assert.deepEqual(document, {
      client_id: clientId,
      client_name: 'Loopback Test Client',
      redirect_uris: ['http://127.0.0.1:33418/callback'],
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code'],
      response_types: ['code'],
    });
    const [request] = server.requests;
    assert.equal(request?.url, '/oauth/client.json');
    assert.equal(request?.headers.accept, 'application/json');
    assert.equal(request?.headers.cookie, undefined, 'no cookies are sent');
    assert.equal(request?.headers.authorization, undefined, 'no credentials are sent');
  } finally {
    await server.close();
  }
});

test('CIMD §6.5 DNS rebinding: the name is resolved once and the connection goes to the vetted address', async () => {
  const server = await serve(documentHandler());
  try {
    // The injected resolver is asked exactly once; the connection uses its answer (the pinned lookup
    // itself is proven above), and Host still carries the name for virtual hosting and TLS.
    const { resolve, calls } = tableResolver({ 'client.localhost': ['127.0.0.1'] });
    const clientId = `http://client.localhost:${server.port}/client.json`;
    const document = await createCimdFetcher({ ...dev, resolve }).fetchClientMetadata(clientId);
    assert.equal(document.client_id, clientId);
    assert.deepEqual(calls, ['client.localhost']);
    assert.equal(server.requests[0]?.headers.host, `client.localhost:${server.port}`, 'Host keeps the name');
  } finally {
    await server.close();
  }
});

test('CIMD §4.1: a document whose client_id is not exactly its URL is refused', async () => {
  const server = await serve(
    documentHandler((clientId) => ({
      client_id: `${clientId}?impostor`,
      client_name: 'Impostor',
      redirect_uris: ['https://app.example.com/cb'],
    })),
  );
  try {
    const err = await refusal(createCimdFetcher(dev).fetchClientMetadata(`${server.origin}/client.json`));
    assert.match(err.message, /client_id/);
  } finally {
    await server.close();
  }
});

test('CIMD §6.6: a document larger than maxBytes is refused, by Content-Length or while streaming', async () => {
  const padding = 'x'.repeat(6000);
  const declared = await serve(documentHandler((clientId) => ({ client_id: clientId, padding })));
  const streamed = await serve((_req, res) => {
    // Chunked, no Content-Length: only counting while reading can stop it.
    res.writeHead(200, { 'content-type': 'application/json' });
    res.write('{"padding":"');
    for (let i = 0; i < 64; i++) res.write('y'.repeat(1024));
    res.end('"}');
  });
  try {
    const fetcher = createCimdFetcher(dev);
    assert.match(
      (await refusal(fetcher.fetchClientMetadata(`${declared.origin}/c.json`))).message,
      /5120 bytes/,
    );
    assert.match(
      (await refusal(fetcher.fetchClientMetadata(`${streamed.origin}/c.json`))).message,
      /5120 bytes/,
    );
    const roomier = createCimdFetcher({ ...dev, maxBytes: 100_000 });
    // Now the size passes and the document fails validation instead (it has no client_name).
    assert.match(
      (await refusal(roomier.fetchClientMetadata(`${declared.origin}/c.json`))).message,
      /invalid/,
    );
  } finally {
    await declared.close();
    await streamed.close();
  }
});

test('MCP security best practices: a server that never answers is given up on at the deadline', async () => {
  const silent = await serve(() => {
    // Never respond.
  });
  const stalling = await serve((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.write('{"client_id":');
  });
  try {
    const fetcher = createCimdFetcher({ ...dev, timeoutMs: 200 });
    for (const server of [silent, stalling]) {
      const started = performance.now();
      const err = await refusal(fetcher.fetchClientMetadata(`${server.origin}/client.json`));
      assert.match(err.message, /in time/);
      assert.ok(performance.now() - started < 2000);
    }
  } finally {
    await silent.close();
    await stalling.close();
  }
});

test('MCP security best practices: a resolver that never answers is given up on at the deadline', async () => {
  const fetcher = createCimdFetcher({ timeoutMs: 200, resolve: () => new Promise(() => {}) });
  assert.match(
    (await refusal(fetcher.fetchClientMetadata('https://client.example/c.json'))).message,
    /in time/,
  );
});

test('CIMD §4: redirects are not followed, so a redirect to a private address never reaches it', async () => {
  const internal = await serve(documentHandler());
  const redirecting = await serve((req, res) => {
    const target =
      req.url === '/to-metadata'
        ? 'http://169.254.169.254/latest/meta-data'
        : `${internal.origin}/client.json`;
    res.writeHead(302, { location: target });
    res.end();
  });
  try {
    const fetcher = createCimdFetcher(dev);
    const before = socketsCreated;
    assert.match(
      (await refusal(fetcher.fetchClientMetadata(`${redirecting.origin}/client.json`))).message,
      /redirect/,
    );
    await refusal(fetcher.fetchClientMetadata(`${redirecting.origin}/to-metadata`));
    assert.equal(internal.connections(), 0);
    assert.equal(socketsCreated - before, 2, 'only the two requests to the redirecting server');
  } finally {
    await internal.close();
    await redirecting.close();
  }
});

test('CIMD §4: non-200 statuses, non-JSON types, encoded and malformed bodies are refused', async () => {
  const server = await serve((req, res) => {
    if (req.url === '/404') res.writeHead(404, { 'content-type': 'application/json' }).end('{}');
    else if (req.url === '/html') res.writeHead(200, { 'content-type': 'text/html' }).end('<html></html>');
    else if (req.url === '/untyped') res.writeHead(200).end('{}');
    else if (req.url === '/gzip')
      res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' }).end('{}');
    else res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' }).end('{"client_id": ');
  });
  try {
    const fetcher = createCimdFetcher(dev);
    const reason = async (path: string) =>
      (await refusal(fetcher.fetchClientMetadata(`${server.origin}${path}`))).message;
    assert.match(await reason('/404'), /status 404/);
    assert.match(await reason('/html'), /application\/json/);
    assert.match(await reason('/untyped'), /application\/json/);
    assert.match(await reason('/gzip'), /content encoding/);
    assert.match(await reason('/broken'), /not valid JSON/);
  } finally {
    await server.close();
  }
});

test('CIMD §4: an application/<name>+json document is accepted', async () => {
  const server = await serve(documentHandler(undefined, { 'content-type': 'application/oauth-client+json' }));
  try {
    const document = await createCimdFetcher(dev).fetchClientMetadata(`${server.origin}/client.json`);
    assert.equal(document.client_name, 'Loopback Test Client');
  } finally {
    await server.close();
  }
});

test('CIMD §4.4 / RFC 9111: a document is reused while Cache-Control max-age says it is fresh', async () => {
  const server = await serve(documentHandler(undefined, { 'cache-control': 'public, max-age=120' }));
  try {
    let clock = Date.parse('2026-01-01T00:00:00Z') / 1000;
    const fetcher = createCimdFetcher({ ...dev, now: () => clock });
    const clientId = `${server.origin}/client.json`;
    await fetcher.fetchClientMetadata(clientId);
    clock += 119;
    await fetcher.fetchClientMetadata(clientId);
    assert.equal(server.requests.length, 1, 'served from cache within max-age');
    clock += 2;
    await fetcher.fetchClientMetadata(clientId);
    assert.equal(server.requests.length, 2, 'fetched again once stale');
  } finally {
    await server.close();
  }
});

test('CIMD §4.4 / RFC 9111: a no-store document is fetched every time', async () => {
  const server = await serve(documentHandler(undefined, { 'cache-control': 'no-store' }));
  try {
    const fetcher = createCimdFetcher({ ...dev, now: () => 0 });
    const clientId = `${server.origin}/client.json`;
    await fetcher.fetchClientMetadata(clientId);
    await fetcher.fetchClientMetadata(clientId);
    assert.equal(server.requests.length, 2);
  } finally {
    await server.close();
  }
});

test('CIMD §4.4: error responses and invalid documents are not cached', async () => {
  let valid = false;
  const server = await serve((req, res) => {
    const clientId = `http://${req.headers.host}${req.url}`;
    res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'max-age=3600' });
    res.end(
      JSON.stringify({
        client_id: clientId,
        client_name: 'Late',
        redirect_uris: valid ? ['https://a.example/cb'] : [],
      }),
    );
  });
  try {
    const fetcher = createCimdFetcher({ ...dev, now: () => 0 });
    const clientId = `${server.origin}/client.json`;
    await refusal(fetcher.fetchClientMetadata(clientId));
    valid = true;
    assert.equal((await fetcher.fetchClientMetadata(clientId)).client_name, 'Late');
    assert.equal(server.requests.length, 2);
  } finally {
    await server.close();
  }
});

test('CIMD §4.4: concurrent requests for one client_id share one fetch, and callers cannot alter the cache', async () => {
  const server = await serve(documentHandler(undefined, { 'cache-control': 'max-age=600' }));
  try {
    const fetcher = createCimdFetcher({ ...dev, now: () => 0 });
    const clientId = `${server.origin}/client.json`;
    const [first, second] = await Promise.all([
      fetcher.fetchClientMetadata(clientId),
      fetcher.fetchClientMetadata(clientId),
    ]);
    assert.equal(server.requests.length, 1);
    first.redirect_uris.push('https://evil.example/cb');
    assert.deepEqual(second.redirect_uris, ['http://127.0.0.1:33418/callback']);
    assert.deepEqual((await fetcher.fetchClientMetadata(clientId)).redirect_uris, [
      'http://127.0.0.1:33418/callback',
    ]);
  } finally {
    await server.close();
  }
});

test('CIMD §4.4: the cache holds at most maxCacheEntries documents, dropping the oldest', async () => {
  const server = await serve(documentHandler(undefined, { 'cache-control': 'max-age=600' }));
  try {
    const fetcher = createCimdFetcher({ ...dev, now: () => 0, maxCacheEntries: 1 });
    await fetcher.fetchClientMetadata(`${server.origin}/a.json`);
    await fetcher.fetchClientMetadata(`${server.origin}/b.json`);
    await fetcher.fetchClientMetadata(`${server.origin}/b.json`);
    assert.equal(server.requests.length, 2, 'b is cached');
    await fetcher.fetchClientMetadata(`${server.origin}/a.json`);
    assert.equal(server.requests.length, 3, 'a was evicted');
  } finally {
    await server.close();
  }
});

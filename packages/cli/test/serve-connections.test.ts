// biome-ignore-all lint/suspicious/noTemplateCurlyInString: configuration files write ${env:NAME} as users do
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { toNodeListener } from '@gatehouse/resource';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { createMcpHandler } from '@modelcontextprotocol/server';
import { closeServer, listen } from '../../../e2e/helpers/loopback.ts';
import { tokenUpstream } from '../../gateway/test/fixtures/token-upstream.ts';
import { cli, start, tokenRequest } from './harness.ts';

/**
 * `gatehouse serve --config` with `connections`: the gateway asks the authorization server's
 * token vault for the caller's upstream token, and without one the call names the connect page.
 */
const ISSUER_LINE = /Issuer \(authorization server\):\s+(http:\/\/127\.0\.0\.1:\d+)/;

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gatehouse-serve-connections-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

test('issue #12: gatehouse serve wires the gateway to the token vault: a caller without a connection gets the URL elicitation error naming <issuer>/connect/<id>, and the upstream gets nothing', async () => {
  const received: Array<string | null> = [];
  const handler = createMcpHandler(() => tokenUpstream());
  const http = createServer();
  const origin = await listen(http);
  http.on(
    'request',
    toNodeListener((request) => {
      received.push(request.headers.get('authorization'));
      return handler.fetch(request);
    }, origin),
  );
  const data = join(dir, 'data');
  const file = join(dir, 'gatehouse.json');
  await writeFile(
    file,
    JSON.stringify({
      data,
      connections: {
        github: {
          // Never reached in this test: nobody connects.
          authorizationEndpoint: 'http://127.0.0.1:9/authorize',
          tokenEndpoint: 'http://127.0.0.1:9/token',
          clientId: 'gatehouse',
          clientSecret: '${env:TEST_CONNECTION_SECRET}',
          scopes: ['repo'],
        },
      },
      mcpServers: { remote: { url: `${origin}/mcp`, connection: 'github', timeoutMs: 10_000 } },
    }),
  );
  const robot = JSON.parse(
    (await cli(['clients', 'add', '--name', 'Robot', '--confidential', '--json', '--data', data])).stdout,
  ) as { client_id: string; client_secret: string };
  const server = start(['serve', '--port', '0', '--config', file], {
    TEST_CONNECTION_SECRET: 'connection-secret',
  });
  try {
    const [, issuer] = await server.waitForOutput(ISSUER_LINE, 15_000);
    const resource = `${issuer}/mcp/remote`;
    const { access_token } = await tokenRequest(
      { issuer: issuer as string, clientId: robot.client_id, clientSecret: robot.client_secret },
      { grant_type: 'client_credentials', scope: 'tools:execute:remote', resource },
    );
    const client = new Client({ name: 'test', version: '1.0.0' });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(resource), {
        requestInit: { headers: { authorization: `Bearer ${access_token}` } },
      }),
    );
    try {
      // A 2025-era client: the 2025-11-25 URL elicitation error, whose message names the page too.
      await assert.rejects(
        client.callTool({ name: 'credential', arguments: {} }),
        (err: Error & { code?: number }) => {
          assert.equal(err.code, -32042);
          assert.match(err.message, new RegExp(`connect it at ${issuer}/connect/github `));
          return true;
        },
      );
    } finally {
      await client.close();
    }
    assert.deepEqual(received, []);
  } finally {
    await server.stop();
    await handler.close();
    await closeServer(http);
  }
});

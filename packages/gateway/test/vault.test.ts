/**
 * The gateway with the real token vault (issue #12): users signed in to Gatehouse through the
 * authorization-code flow, their upstream tokens in the vault (encrypted in SQLite), refreshed at
 * oidc-provider on loopback standing in for the upstream API's authorization server, and an HTTP
 * MCP upstream on loopback reporting the Authorization header it received.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { defaultScopes } from '@gatehouse/core';
import { toNodeListener } from '@gatehouse/resource';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { createMcpHandler } from '@modelcontextprotocol/server';
import { authorize, tokenRequest } from '../../../e2e/helpers/agent.ts';
import { type InProcessServer, startInProcess } from '../../../e2e/helpers/in-process.ts';
import { closeServer, listen } from '../../../e2e/helpers/loopback.ts';
import { mountMcpServer } from '../../cli/src/mount.ts';
import { startUpstreamAs, type UpstreamAs } from '../../server/src/vault/upstream-as-kit.ts';
import { createGateway, type Gateway } from '../src/gateway.ts';
import { tokenUpstream } from './fixtures/token-upstream.ts';

const CLIENT = 'vault-gateway-client';
const CALLBACK = 'http://127.0.0.1/callback';

let as: InProcessServer;
let gateway: Gateway;
let upstreamAs: UpstreamAs;
let mcp: { url: string; close(): Promise<void> };
const received: Array<string | null> = [];

before(async () => {
  upstreamAs = await startUpstreamAs();
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
  mcp = {
    url: `${origin}/mcp`,
    close: async () => {
      await handler.close();
      await closeServer(http);
    },
  };
  as = await startInProcess((issuer) => {
    gateway = createGateway({
      issuer,
      servers: { github: { url: mcp.url, title: 'GitHub', connection: 'github', timeoutMs: 10_000 } },
      credentials: (_server, userId) => as.as.vault.accessToken(userId, 'github'),
      audit: () => {},
      log: () => {},
    });
    return {
      resources: gateway.servers.map((s) => s.resource),
      scopes: [...defaultScopes, ...gateway.scopes],
      connections: new Map([
        [
          'github',
          {
            issuer: upstreamAs.issuer,
            authorizationEndpoint: `${upstreamAs.issuer}/auth`,
            tokenEndpoint: `${upstreamAs.issuer}/token`,
            clientId: upstreamAs.clientId,
            clientSecret: upstreamAs.clientSecret,
            scopes: ['repo'],
          },
        ],
      ]),
    };
  });
  for (const server of gateway.servers)
    mountMcpServer(as.as, server.path, server.fetch, { rootMetadata: false });
  await as.addClient({ client_id: CLIENT, redirect_uris: [CALLBACK] });
});

after(async () => {
  await gateway?.close();
  await as?.close();
  await mcp?.close();
  await upstreamAs?.close();
});

/** A signed-in user's Gatehouse access token for the github server (authorization code + PKCE). */
async function signIn(username: string): Promise<{ userId: string; token: string }> {
  const password = 'correct horse battery staple';
  const userId = await as.addUser(username, password);
  const resource = `${as.issuer}/mcp/github`;
  const flow = await authorize({
    issuer: as.issuer,
    clientId: CLIENT,
    redirectUri: CALLBACK,
    scope: 'tools:list tools:execute:github',
    resource,
    username,
    password,
  });
  const token = await tokenRequest(as.issuer, {
    grant_type: 'authorization_code',
    code: flow.params.code as string,
    code_verifier: flow.verifier,
    redirect_uri: CALLBACK,
    client_id: CLIENT,
    resource,
  });
  assert.equal(token.status, 200, JSON.stringify(token.body));
  return { userId, token: token.body.access_token as string };
}

async function connect(token: string): Promise<Client> {
  const client = new Client({ name: 'vault-gateway-test', version: '1.0.0' });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(`${as.issuer}/mcp/github`), {
      requestInit: { headers: { authorization: `Bearer ${token}` } },
    }),
  );
  return client;
}

type ToolResult = { content: Array<{ text: string }>; isError?: boolean };

describe('gateway with the token vault', () => {
  test('RFC 6749 §6, issue #12: 20 parallel tool calls on an expiring upstream token make exactly one upstream refresh, and all carry the new token', async () => {
    const alice = await signIn('alice');
    const refreshToken = await upstreamAs.seedRefreshToken(alice.userId);
    // Within the vault's refresh margin: the next use refreshes it first.
    await as.as.vault.save(alice.userId, 'github', {
      access_token: 'alice-old-access',
      refresh_token: refreshToken,
      expires_in: 30,
    });
    const refreshesBefore = upstreamAs.tokenRequests.get('refresh_token') ?? 0;
    received.length = 0;
    const client = await connect(alice.token);
    try {
      const results = (await Promise.all(
        Array.from({ length: 20 }, () => client.callTool({ name: 'credential', arguments: {} })),
      )) as ToolResult[];
      assert.equal((upstreamAs.tokenRequests.get('refresh_token') ?? 0) - refreshesBefore, 1);
      const seen = new Set(
        results.map((r) => (JSON.parse(r.content[0]?.text ?? '{}') as Seen).authorization),
      );
      assert.equal(seen.size, 1);
      const [header] = [...seen];
      assert.match(header ?? '', /^Bearer \S+$/);
      assert.notEqual(header, 'Bearer alice-old-access');
      assert.ok(!header?.includes(alice.token), 'never the Gatehouse token');
      for (const h of received) assert.equal(h, header);
    } finally {
      await client.close();
    }
  });

  test('issue #12: a user who has not connected gets an isError result naming the connect page; a disabled user’s tokens serve no one', async () => {
    const bob = await signIn('bob');
    const client = await connect(bob.token);
    try {
      const missing = (await client.callTool({ name: 'credential', arguments: {} })) as ToolResult;
      assert.equal(missing.isError, true);
      assert.match(missing.content[0]?.text ?? '', new RegExp(`connect it at ${as.issuer}/connect/github`));

      await as.as.vault.save(bob.userId, 'github', { access_token: 'bob-access', expires_in: 3600 });
      const connected = (await client.callTool({ name: 'credential', arguments: {} })) as ToolResult;
      assert.equal(
        (JSON.parse(connected.content[0]?.text ?? '{}') as Seen).authorization,
        'Bearer bob-access',
      );

      // Disabled (here straight in the store, so the Gatehouse token itself still passes the
      // guard): the vault no longer hands the user's upstream token to anyone.
      assert.equal(await as.store.setUserDisabled(bob.userId, true), true);
      received.length = 0;
      const disabled = (await client.callTool({ name: 'credential', arguments: {} })) as ToolResult;
      assert.equal(disabled.isError, true);
      assert.doesNotMatch(disabled.content[0]?.text ?? '', /bob-access/);
      assert.deepEqual(received, []);
    } finally {
      await client.close();
    }
  });
});

type Seen = { authorization: string | null };

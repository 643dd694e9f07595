/**
 * The token vault in the gateway (issue #12): a server with a `connection` calls its upstream with
 * the calling user's own upstream token (HTTP: `Authorization: Bearer`, stdio: the connection's
 * `env` variable of the user's own process), never the MCP client's Gatehouse token, never another
 * user's; a missing or broken connection is a readable error naming the connect page.
 *
 * The vault here is the `credentials` callback over a Map (the gateway's whole view of it); the
 * vault itself (refresh, storage) is tested in @gatehouse/server.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { defaultScopes } from '@gatehouse/core';
import { toNodeListener } from '@gatehouse/resource';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { createMcpHandler } from '@modelcontextprotocol/server';
import { type InProcessServer, startInProcess } from '../../../e2e/helpers/in-process.ts';
import { closeServer, listen } from '../../../e2e/helpers/loopback.ts';
import { mountMcpServer } from '../../cli/src/mount.ts';
import { createGateway, type Gateway } from '../src/gateway.ts';
import type { UpstreamCredential } from '../src/upstream/credentials.ts';
import { clientCredentialsToken } from './fixtures/client-credentials.ts';
import { heldArrived, releaseHeld, tokenUpstream } from './fixtures/token-upstream.ts';

const fixture = fileURLToPath(new URL('./fixtures/token-upstream.ts', import.meta.url));

let as: InProcessServer;
let gateway: Gateway;
let upstream: { url: string; close(): Promise<void> };
/** Every Authorization header the HTTP upstream received, initialize and session requests included. */
const received: Array<string | null> = [];
/** The pool's log lines (never a token). */
const logs: string[] = [];
/** The vault's answers, by user id (the token's `sub`). */
const vault = new Map<string, UpstreamCredential>();
const asked: Array<{ server: string; userId: string }> = [];

before(async () => {
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
  upstream = {
    url: `${origin}/mcp`,
    close: async () => {
      await handler.close();
      await closeServer(http);
    },
  };
  as = await startInProcess((issuer) => {
    gateway = createGateway({
      issuer,
      servers: {
        api: { url: upstream.url, connection: 'github', timeoutMs: 10_000 },
        cli: {
          command: process.execPath,
          args: [fixture],
          process: { mode: 'per-user' },
          connection: 'github',
          timeoutMs: 10_000,
        },
      },
      connections: { github: { env: 'UPSTREAM_TOKEN' } },
      credentials: async (server, userId) => {
        asked.push({ server, userId });
        return vault.get(userId) ?? { missing: `${issuer}/connect/github` };
      },
      audit: () => {},
      log: (server, line) => logs.push(`${server}: ${line}`),
    });
    return {
      resources: gateway.servers.map((s) => s.resource),
      scopes: [...defaultScopes, ...gateway.scopes],
      registration: { clientCredentials: true, perIpPerHour: 1000 },
    };
  });
  for (const server of gateway.servers)
    mountMcpServer(as.as, server.path, server.fetch, { rootMetadata: false });
});

after(async () => {
  await gateway?.close();
  await as?.close();
  await upstream?.close();
});

const resourceOf = (name: string) => `${as.issuer}/mcp/${name}`;

/** A client of the AS with client_credentials: its tokens' subject (the user, here) is its client id. */
async function userToken(server: string): Promise<{ token: string; userId: string }> {
  const { token, clientId } = await clientCredentialsToken(
    as.issuer,
    resourceOf(server),
    `tools:list tools:execute:${server}`,
    'Vault test',
  );
  return { token, userId: clientId };
}

async function connect(server: string, token: string): Promise<Client> {
  const client = new Client({ name: 'vault-test', version: '1.0.0' });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(resourceOf(server)), {
      requestInit: { headers: { authorization: `Bearer ${token}` } },
    }),
  );
  return client;
}

type Seen = { authorization: string | null; env: string | null; pid: number };

async function credentialSeen(server: string, token: string): Promise<Seen> {
  const client = await connect(server, token);
  try {
    const result = (await client.callTool({ name: 'credential', arguments: {} })) as {
      content: Array<{ text: string }>;
      isError?: boolean;
    };
    assert.notEqual(result.isError, true, result.content[0]?.text);
    return JSON.parse(result.content[0]?.text ?? 'null') as Seen;
  } finally {
    await client.close();
  }
}

describe('gateway: upstream tokens from the vault', () => {
  test('MCP security §Token passthrough: an HTTP upstream with a connection gets each user’s own upstream token as Bearer, never the Gatehouse token, never another user’s', async () => {
    const alice = await userToken('api');
    const bob = await userToken('api');
    vault.set(alice.userId, { token: 'upstream-alice-1' });
    vault.set(bob.userId, { token: 'upstream-bob-1' });
    received.length = 0;

    assert.equal((await credentialSeen('api', alice.token)).authorization, 'Bearer upstream-alice-1');
    assert.equal((await credentialSeen('api', bob.token)).authorization, 'Bearer upstream-bob-1');
    assert.equal((await credentialSeen('api', alice.token)).authorization, 'Bearer upstream-alice-1');
    assert.ok(asked.some((a) => a.server === 'api' && a.userId === alice.userId));

    // Every request the upstream got (initialize included) carried one user's upstream token.
    assert.ok(received.length >= 3);
    for (const header of received) {
      assert.ok(header === 'Bearer upstream-alice-1' || header === 'Bearer upstream-bob-1', String(header));
      assert.ok(!header.includes(alice.token) && !header.includes(bob.token));
    }
  });

  test('issue #12: after a refresh the HTTP upstream gets the new token (a new connection for that user only)', async () => {
    const carol = await userToken('api');
    vault.set(carol.userId, { token: 'upstream-carol-1' });
    assert.equal((await credentialSeen('api', carol.token)).authorization, 'Bearer upstream-carol-1');
    vault.set(carol.userId, { token: 'upstream-carol-2' });
    assert.equal((await credentialSeen('api', carol.token)).authorization, 'Bearer upstream-carol-2');
  });

  test('issue #12: a call in flight when the token changes finishes on its old connection, which then ends; the next calls use the new token', async () => {
    const frank = await userToken('api');
    vault.set(frank.userId, { token: 'upstream-frank-1' });
    logs.length = 0;
    const client = await connect('api', frank.token);
    try {
      const arrived = heldArrived();
      const heldCall = client.callTool({ name: 'held', arguments: {} });
      await arrived;
      vault.set(frank.userId, { token: 'upstream-frank-2' });
      const now = (await client.callTool({ name: 'credential', arguments: {} })) as {
        content: Array<{ text: string }>;
      };
      assert.equal(JSON.parse(now.content[0]?.text ?? '{}').authorization, 'Bearer upstream-frank-2');
      const restarted = (line: string) => /^api: \(.+\) restarted with a new upstream token$/.test(line);
      assert.ok(!logs.some(restarted), 'the old connection is still serving the held call');
      releaseHeld();
      const old = (await heldCall) as { content: Array<{ text: string }>; isError?: boolean };
      assert.notEqual(old.isError, true, old.content[0]?.text);
      assert.equal(JSON.parse(old.content[0]?.text ?? '{}').authorization, 'Bearer upstream-frank-1');
      // Once its last request ended, the old connection is closed.
      while (!logs.some(restarted)) await new Promise((resolve) => setImmediate(resolve));
      assert.ok(
        logs.every((line) => !line.includes('upstream-frank')),
        'no token in the log',
      );
    } finally {
      await client.close();
    }
  });

  test('issue #12: a per-user stdio process gets its user’s token in the connection’s env variable, and is restarted when the token changes', async () => {
    const alice = await userToken('cli');
    const bob = await userToken('cli');
    vault.set(alice.userId, { token: 'cli-alice-1' });
    vault.set(bob.userId, { token: 'cli-bob-1' });

    const first = await credentialSeen('cli', alice.token);
    assert.equal(first.env, 'cli-alice-1');
    assert.equal(first.authorization, null);
    const other = await credentialSeen('cli', bob.token);
    assert.equal(other.env, 'cli-bob-1');
    assert.notEqual(other.pid, first.pid);

    assert.equal((await credentialSeen('cli', alice.token)).pid, first.pid, 'same token, same process');
    vault.set(alice.userId, { token: 'cli-alice-2' });
    const refreshed = await credentialSeen('cli', alice.token);
    assert.equal(refreshed.env, 'cli-alice-2');
    assert.notEqual(refreshed.pid, first.pid, 'a new process for the new token');
    assert.equal(
      (await credentialSeen('cli', bob.token)).pid,
      other.pid,
      'the other user’s process untouched',
    );
  });

  test('issue #12: without a connection, tools/call and tools/list answer JSON-RPC errors naming the connect page; nothing reaches the upstream', async () => {
    const dave = await userToken('api');
    vault.delete(dave.userId);
    received.length = 0;
    const client = await connect('api', dave.token);
    try {
      await assert.rejects(client.callTool({ name: 'credential', arguments: {} }), (err: Error) => {
        assert.match(err.message, new RegExp(`connect it at ${as.issuer}/connect/github`));
        return true;
      });
      await assert.rejects(client.listTools(), (err: Error) => {
        assert.match(err.message, new RegExp(`${as.issuer}/connect/github`));
        return true;
      });
    } finally {
      await client.close();
    }
    assert.deepEqual(received, []);
  });

  test('issue #12: a broken connection (a terminally failed refresh) tells the user to reconnect, naming the page', async () => {
    const erin = await userToken('cli');
    vault.set(erin.userId, { broken: `${as.issuer}/connect/github` });
    const client = await connect('cli', erin.token);
    try {
      await assert.rejects(client.callTool({ name: 'credential', arguments: {} }), (err: Error) => {
        assert.match(err.message, new RegExp(`reconnect it at ${as.issuer}/connect/github`));
        assert.doesNotMatch(err.message, /cli-/);
        return true;
      });
    } finally {
      await client.close();
    }
  });
});

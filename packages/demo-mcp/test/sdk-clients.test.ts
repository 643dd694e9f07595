import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { parseBearerChallenge } from '@gatehouse/core';
import {
  Client as ClientV2,
  StreamableHTTPClientTransport as TransportV2,
} from '@modelcontextprotocol/client';
import { Client as ClientV1 } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as TransportV1 } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import {
  startTestAuthorizationServer,
  type TestAuthorizationServer,
} from '../../resource/test/fixture-as.ts';
import { startProtectedDemo } from './helpers.ts';

const ALL =
  'tools:list tools:execute:filesystem tools:execute:database resources:read prompts:list prompts:execute';

interface AnyClient {
  listTools(): Promise<{ tools: Array<{ name: string }> }>;
  callTool(p: { name: string; arguments?: Record<string, unknown> }): Promise<unknown>;
  close(): Promise<void>;
}

/** The official MCP SDK clients, v2 (2026-07-28) and v1 (2025 revisions), with a bearer token. */
const sdks = {
  v2: async (url: string, token: string): Promise<AnyClient> => {
    const client = new ClientV2({ name: 'test-v2', version: '1.0.0' });
    await client.connect(
      new TransportV2(new URL(url), { requestInit: { headers: { authorization: `Bearer ${token}` } } }),
    );
    return client as unknown as AnyClient;
  },
  v1: async (url: string, token: string): Promise<AnyClient> => {
    const client = new ClientV1({ name: 'test-v1', version: '1.0.0' });
    await client.connect(
      new TransportV1(new URL(url), { requestInit: { headers: { authorization: `Bearer ${token}` } } }),
    );
    return client as unknown as AnyClient;
  },
};

let as: TestAuthorizationServer;
let demo: Awaited<ReturnType<typeof startProtectedDemo>>;
before(async () => {
  as = await startTestAuthorizationServer();
  demo = await startProtectedDemo({ authorizationServers: [as.issuer], revocations: as.revocations });
});
after(async () => {
  await demo.close();
  await as.close();
});

for (const [name, connect] of Object.entries(sdks)) {
  describe(`official MCP SDK client ${name} against the protected demo over HTTP`, () => {
    test('MCP tools/list: a token that may run no tool gets an empty list, not method-not-found', async () => {
      const token = await as.mint({ aud: demo.resource, scope: 'tools:list prompts:list prompts:execute' });
      const client = await connect(demo.resource, token);
      try {
        assert.deepEqual((await client.listTools()).tools, []);
      } finally {
        await client.close();
      }
    });

    test('a token with every scope lists and calls filesystem and database tools', async () => {
      const client = await connect(demo.resource, await as.mint({ aud: demo.resource, scope: ALL }));
      try {
        const { tools } = await client.listTools();
        assert.deepEqual(tools.map((t) => t.name).sort(), [
          'execute',
          'list_files',
          'query',
          'read_file',
          'search_files',
          'write_file',
        ]);
        const rows = (await client.callTool({
          name: 'query',
          arguments: { sql: 'SELECT title FROM notes' },
        })) as {
          content: Array<{ text: string }>;
        };
        assert.match(rows.content[0]?.text ?? '', /Welcome/);
      } finally {
        await client.close();
      }
    });

    test('MCP authorization: a token without tools:execute:database gets 403 insufficient_scope naming it', async () => {
      const token = await as.mint({ aud: demo.resource, scope: 'tools:list tools:execute:filesystem' });
      const client = await connect(demo.resource, token);
      try {
        const { tools } = await client.listTools();
        assert.ok(!tools.some((t) => t.name === 'query'), 'tools/list shows only tools the token may run');
        await assert.rejects(
          client.callTool({ name: 'query', arguments: { sql: 'SELECT 1' } }),
          /403|insufficient/i,
        );
      } finally {
        await client.close();
      }
      const res = await fetch(demo.resource, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
        },
        body: JSON.stringify({
          jsonrpc: '2.0',
          id: 1,
          method: 'tools/call',
          params: { name: 'query', arguments: {} },
        }),
      });
      assert.equal(res.status, 403);
      const challenge = parseBearerChallenge(res.headers.get('www-authenticate') ?? '');
      assert.equal(challenge?.error, 'insufficient_scope');
      assert.equal(challenge?.scope, 'tools:execute:database');
    });

    test('RFC 8707: a token for another resource is rejected', async () => {
      const token = await as.mint({ aud: 'http://127.0.0.1:1/mcp', scope: ALL });
      await assert.rejects(connect(demo.resource, token), /invalid_token.*not meant for this resource/);
    });

    test('a revoked grant is rejected at once through the in-process RevocationSource', async () => {
      const gid = `grant-${name}`;
      const client = await connect(demo.resource, await as.mint({ aud: demo.resource, scope: ALL, gid }));
      try {
        await client.listTools();
        as.revokeGrant(gid);
        await assert.rejects(client.listTools(), /401|unauthorized|invalid_token/i);
      } finally {
        await client.close().catch(() => {});
      }
    });
  });
}

test('across processes: a guard following the feed rejects a revoked grant within a second (SDK v2)', async () => {
  const remote = await startProtectedDemo({ authorizationServers: [as.issuer], revocationFeed: true });
  try {
    await remote.guard.ready();
    const gid = 'grant-feed';
    const client = await sdks.v2(remote.resource, await as.mint({ aud: remote.resource, scope: ALL, gid }));
    try {
      await client.listTools();
      const started = performance.now();
      as.revokeGrant(gid);
      for (;;) {
        try {
          await client.listTools();
        } catch {
          break;
        }
        assert.ok(performance.now() - started < 1000, 'revocation not seen within a second');
      }
      assert.ok(performance.now() - started < 1000);
    } finally {
      await client.close().catch(() => {});
    }
  } finally {
    await remote.close();
  }
});

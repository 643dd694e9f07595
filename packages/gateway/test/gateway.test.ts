/**
 * createGateway mounted on a real Gatehouse AS (SQLite, real HTTP on 127.0.0.1) with real
 * upstreams: a tiny official-SDK server over stdio (two servers) and over Streamable HTTP. Tokens
 * come from the AS's token endpoint (client_credentials; the subject is the client), and the MCP
 * clients are the official SDK v2 and v1 clients.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { defaultScopes, parseBearerChallenge, type RevocationSource } from '@gatehouse/core';
import { toNodeListener } from '@gatehouse/resource';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { Client as ClientV1 } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as TransportV1 } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { createMcpHandler } from '@modelcontextprotocol/server';
import { decodeJwt, decodeProtectedHeader, generateKeyPair, jwtVerify, SignJWT } from 'jose';
import { type InProcessServer, startInProcess } from '../../../e2e/helpers/in-process.ts';
import { closeServer, listen } from '../../../e2e/helpers/loopback.ts';
import { mountMcpServer } from '../../cli/src/mount.ts';
import type { McpServerConfig } from '../src/config/schema.ts';
import { createGateway, type Gateway, type GatewayAuditEvent } from '../src/gateway.ts';
import { clientCredentialsToken } from './fixtures/client-credentials.ts';
import { tinyUpstream } from './fixtures/tiny-upstream.ts';

const fixture = fileURLToPath(new URL('./fixtures/tiny-upstream.ts', import.meta.url));
const stdio = (extra: Partial<McpServerConfig> = {}): McpServerConfig => ({
  command: process.execPath,
  args: [fixture],
  timeoutMs: 10_000,
  ...extra,
});

let as: InProcessServer;
let gateway: Gateway;
let upstreamHttp: { url: string; close(): Promise<void> };
const audit: GatewayAuditEvent[] = [];
const signing = await generateKeyPair('ES256');

before(async () => {
  // The HTTP upstream: the same tiny server, Streamable HTTP, on its own loopback port.
  const upstreamHandler = createMcpHandler(() => tinyUpstream());
  const http = createServer();
  const upstreamOrigin = await listen(http);
  http.on(
    'request',
    toNodeListener((request) => upstreamHandler.fetch(request), upstreamOrigin),
  );
  upstreamHttp = {
    url: `${upstreamOrigin}/mcp`,
    close: async () => {
      await upstreamHandler.close();
      await closeServer(http);
    },
  };

  // The AS's revocations exist once it does; the guards ask through this.
  const revocations: RevocationSource = { isRevoked: (claims) => as.as.revocations.isRevoked(claims) };
  as = await startInProcess((issuer) => {
    gateway = createGateway({
      issuer,
      servers: {
        notes: stdio({ title: 'Notes', readOnlyScope: true, audit: { arguments: 'hashed' } }),
        other: stdio({
          title: 'Other notes',
          listAll: true,
          challengeScopes: ['tools:list', 'prompts:list'],
        }),
        remote: { url: upstreamHttp.url, title: 'Remote notes', identityAssertion: true, timeoutMs: 10_000 },
        broken: { command: `${process.execPath}-does-not-exist`, title: 'Broken', timeoutMs: 5_000 },
      },
      revocations,
      audit: (event) => audit.push(event),
      signIdentityAssertion: (claims) =>
        new SignJWT(claims).setProtectedHeader({ alg: 'ES256', typ: 'JWT' }).sign(signing.privateKey),
      log: () => {},
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
  await upstreamHttp?.close();
});

const resourceOf = (name: string) => `${as.issuer}/mcp/${name}`;

/** A client of the AS (client_credentials; its tokens' subject is the client) holding `scope`. */
const tokenFor = (server: string, scope: string) =>
  clientCredentialsToken(as.issuer, resourceOf(server), scope, 'Gateway test');

/** The SDK v2 client: 2025-11-25 by default (`initialize`), or pinned to 2026-07-28. */
type Era = 'legacy' | 'modern';
const ERAS: Era[] = ['legacy', 'modern'];

async function connect(server: string, token: string, era: Era = 'legacy'): Promise<Client> {
  const client = new Client(
    { name: 'gateway-test', version: '1.0.0' },
    era === 'modern' ? { versionNegotiation: { mode: { pin: '2026-07-28' } } } : {},
  );
  await client.connect(
    new StreamableHTTPClientTransport(new URL(resourceOf(server)), {
      requestInit: { headers: { authorization: `Bearer ${token}` } },
    }),
  );
  return client;
}

const textOf = (result: unknown) =>
  ((result as { content: Array<{ text?: string }> }).content[0]?.text ?? '') as string;

/** A raw 2026-07-28 request, as any client would POST it. */
function post(
  server: string,
  token: string,
  body: Record<string, unknown>,
  headers: Record<string, string> = {},
) {
  return fetch(resourceOf(server), {
    method: 'POST',
    headers: {
      authorization: `Bearer ${token}`,
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      ...headers,
    },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, ...body }),
  });
}

/** The JSON-RPC message of a response, whether sent as JSON or as one SSE event. */
async function messageOf(response: Response): Promise<unknown> {
  const text = await response.text();
  if (!(response.headers.get('content-type') ?? '').includes('text/event-stream')) return JSON.parse(text);
  const data = text.split('\n').find((line) => line.startsWith('data: '));
  return JSON.parse(data?.slice('data: '.length) ?? 'null');
}

describe('gateway: scopes and enforcement', () => {
  test('RFC 9728 §3: each server is its own protected resource, with its own scopes in its metadata', async () => {
    const response = await fetch(`${as.issuer}/.well-known/oauth-protected-resource/mcp/notes`);
    const metadata = (await response.json()) as {
      resource: string;
      scopes_supported: string[];
      resource_name: string;
    };
    assert.equal(metadata.resource, resourceOf('notes'));
    assert.equal(metadata.resource_name, 'Notes');
    assert.ok(metadata.scopes_supported.includes('tools:execute:notes'));
    assert.ok(metadata.scopes_supported.includes('tools:execute:notes:read'));
    assert.ok(!metadata.scopes_supported.includes('tools:execute:other'));
    assert.deepEqual(
      gateway.scopes.filter((s) => s.name.startsWith('tools:execute:notes')),
      [
        { name: 'tools:execute:notes', description: 'Run Notes tools' },
        { name: 'tools:execute:notes:read', description: 'Run Notes tools that only read' },
      ],
    );
  });

  test('MCP authorization, docs/least-privilege.md: the 401 challenge names every scope by default, or the operator’s baseline', async () => {
    const challenge = async (server: string) => {
      const response = await fetch(resourceOf(server), {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
        // What a client sends first, and what needs no scope itself.
        body: JSON.stringify({
          jsonrpc: '2.0',
          id: 1,
          method: 'initialize',
          params: {
            protocolVersion: '2025-11-25',
            capabilities: {},
            clientInfo: { name: 't', version: '1' },
          },
        }),
      });
      await response.body?.cancel();
      assert.equal(response.status, 401);
      return (parseBearerChallenge(response.headers.get('www-authenticate') ?? '')?.scope ?? '').split(' ');
    };
    assert.ok((await challenge('notes')).includes('tools:execute:notes'), 'default: every scope');
    assert.deepEqual((await challenge('other')).sort(), ['prompts:list', 'tools:list'], 'the baseline');
  });

  test('consent: toolsOf names each tool of a server with the scope it needs, from the upstream’s tools/list', async () => {
    const tools = await gateway.toolsOf(resourceOf('notes'));
    const scopeOf = new Map(tools.map((t) => [t.name, t.scope]));
    assert.equal(scopeOf.get('read_note'), 'tools:execute:notes:read');
    assert.equal(scopeOf.get('write_note'), 'tools:execute:notes');
    assert.deepEqual(await gateway.toolsOf(`${as.issuer}/mcp/unknown`), []);
  });

  test('RFC 8707 §2, RFC 9068 §4: a token for one server is refused by another (401 invalid_token)', async () => {
    const { token } = await tokenFor('notes', 'tools:list tools:execute:notes');
    const response = await post(
      'other',
      token,
      { method: 'tools/list', params: {} },
      { 'mcp-method': 'tools/list' },
    );
    assert.equal(response.status, 401);
    const challenge = parseBearerChallenge(response.headers.get('www-authenticate') ?? '');
    assert.equal(challenge?.error, 'invalid_token');
    assert.match(challenge?.resource_metadata ?? '', /\/mcp\/other$/);
  });

  test('MCP authorization: the read-only scope runs tools the upstream marks readOnlyHint and gets 403 insufficient_scope for the others', async () => {
    const { token } = await tokenFor('notes', 'tools:list tools:execute:notes:read');
    const client = await connect('notes', token);
    try {
      assert.equal(textOf(await client.callTool({ name: 'read_note', arguments: { name: 'a' } })), 'note a');
    } finally {
      await client.close();
    }
    const denied = await post(
      'notes',
      token,
      { method: 'tools/call', params: { name: 'write_note', arguments: { name: 'a', text: 'secret-text' } } },
      { 'mcp-method': 'tools/call', 'mcp-name': 'write_note' },
    );
    assert.equal(denied.status, 403);
    const challenge = parseBearerChallenge(denied.headers.get('www-authenticate') ?? '');
    assert.equal(challenge?.error, 'insufficient_scope');
    assert.equal(challenge?.scope, 'tools:execute:notes');
  });

  test('SEP-2243: an Mcp-Name header that disagrees with the body is refused before anything reaches the upstream', async () => {
    const { token } = await tokenFor('notes', 'tools:list tools:execute:notes:read');
    const response = await post(
      'notes',
      token,
      { method: 'tools/call', params: { name: 'write_note', arguments: { name: 'a', text: 'b' } } },
      { 'mcp-method': 'tools/call', 'mcp-name': 'read_note' },
    );
    assert.equal(response.status, 400);
  });

  test('MCP authorization: tools/list, resources and prompts show only what the token may use', async () => {
    const { token } = await tokenFor('notes', 'tools:list tools:execute:notes:read prompts:list');
    const client = await connect('notes', token);
    try {
      const { tools } = await client.listTools();
      assert.deepEqual(tools.map((t) => t.name).sort(), ['read_note', 'wait_state']);
      const { prompts } = await client.listPrompts();
      assert.deepEqual(prompts, []);
    } finally {
      await client.close();
    }
  });

  test('MCP authorization: a server configured listAll lists every tool, and a 2025-era client (SDK v1) is served too', async () => {
    const { token } = await tokenFor('other', 'tools:list');
    const client = new ClientV1({ name: 'gateway-test-v1', version: '1.0.0' });
    await client.connect(
      new TransportV1(new URL(resourceOf('other')), {
        requestInit: { headers: { authorization: `Bearer ${token}` } },
      }),
    );
    try {
      const { tools } = await client.listTools();
      assert.ok(tools.some((t) => t.name === 'write_note'));
      await assert.rejects(
        client.callTool({ name: 'write_note', arguments: { name: 'a', text: 'b' } }),
        /insufficient_scope/,
      );
    } finally {
      await client.close();
    }
  });
});

describe('gateway: bridging', () => {
  for (const era of ERAS) {
    test(`MCP progress (${era}): the upstream’s notifications/progress reach the client under the client’s own token`, async () => {
      const { token } = await tokenFor('notes', 'tools:execute:notes');
      const client = await connect('notes', token, era);
      try {
        const seen: Array<{ progress: number; total?: number }> = [];
        const result = await client.callTool(
          { name: 'count', arguments: { to: 3 } },
          {
            onprogress: (p) =>
              seen.push({ progress: p.progress, ...(p.total !== undefined ? { total: p.total } : {}) }),
          },
        );
        assert.equal(textOf(result), 'counted to 3');
        assert.deepEqual(seen, [
          { progress: 1, total: 3 },
          { progress: 2, total: 3 },
          { progress: 3, total: 3 },
        ]);
      } finally {
        await client.close();
      }
    });

    test(`MCP cancellation (${era}): a request the client cancels is cancelled upstream`, async () => {
      const { token } = await tokenFor('notes', 'tools:execute:notes');
      const client = await connect('notes', token, era);
      try {
        const controller = new AbortController();
        const waiting = client.callTool(
          { name: 'wait_for_cancel', arguments: {} },
          { signal: controller.signal },
        );
        const stateIs = async (wanted: string) => {
          for (let i = 0; i < 500; i++) {
            if (textOf(await client.callTool({ name: 'wait_state', arguments: {} })) === wanted) return true;
            await new Promise((resolve) => setImmediate(resolve));
          }
          return false;
        };
        assert.ok(await stateIs('waiting'), 'the upstream is waiting');
        controller.abort();
        await assert.rejects(waiting);
        assert.ok(await stateIs('cancelled'), 'the upstream saw the cancellation');
      } finally {
        await client.close();
      }
    });
  }

  test('MCP Streamable HTTP (2025-03-26 §2.1.5): a 2025-era request asking no progress is answered as one JSON document, one asking progress as an event stream', async () => {
    const { token } = await tokenFor('notes', 'tools:execute:notes');
    const plain = await post('notes', token, {
      method: 'tools/call',
      params: { name: 'read_note', arguments: { name: 'json' } },
    });
    assert.equal(plain.headers.get('content-type'), 'application/json');
    assert.equal(textOf(((await messageOf(plain)) as { result: unknown }).result), 'note json');
    const streamed = await post('notes', token, {
      method: 'tools/call',
      params: { name: 'count', arguments: { to: 2 }, _meta: { progressToken: 'p' } },
    });
    assert.equal(streamed.headers.get('content-type'), 'text/event-stream');
    const events = await streamed.text();
    assert.match(events, /notifications\/progress/);
    assert.match(events, /counted to 2/);
  });

  test('MCP cancellation (2025-era, JSON answer): a client that goes away mid-call cancels the upstream request', async () => {
    const { token } = await tokenFor('notes', 'tools:execute:notes');
    const state = async () =>
      textOf(
        (
          (await messageOf(
            await post('notes', token, {
              method: 'tools/call',
              params: { name: 'wait_state', arguments: {} },
            }),
          )) as {
            result: unknown;
          }
        ).result,
      );
    const stateIs = async (wanted: string) => {
      for (let i = 0; i < 500; i++) {
        if ((await state()) === wanted) return true;
        await new Promise((resolve) => setImmediate(resolve));
      }
      return false;
    };
    const controller = new AbortController();
    const waiting = fetch(resourceOf('notes'), {
      method: 'POST',
      signal: controller.signal,
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
      },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'tools/call',
        params: { name: 'wait_for_cancel', arguments: {} },
      }),
    });
    assert.ok(await stateIs('waiting'), 'the upstream is waiting');
    controller.abort();
    await assert.rejects(waiting);
    assert.ok(await stateIs('cancelled'), 'the upstream saw the cancellation');
  });

  test('JSON-RPC 2.0 §4: two users sending the same request id at once to one shared upstream each get their own answer', async () => {
    const alice = await tokenFor('notes', 'tools:execute:notes');
    const bob = await tokenFor('notes', 'tools:execute:notes');
    const call = (token: string, name: string) =>
      post(
        'notes',
        token,
        { id: 7, method: 'tools/call', params: { name: 'read_note', arguments: { name } } },
        { 'mcp-method': 'tools/call', 'mcp-name': 'read_note' },
      ).then(messageOf);
    const answers = (await Promise.all([call(alice.token, 'alice'), call(bob.token, 'bob')])) as Array<{
      id: number;
      result: unknown;
    }>;
    assert.deepEqual(
      answers.map((a) => [a.id, textOf(a.result)]),
      [
        [7, 'note alice'],
        [7, 'note bob'],
      ],
    );
  });

  test('MCP tools: an upstream that cannot be started gives a tool result with isError that names the server', async () => {
    const { token } = await tokenFor('broken', 'tools:list tools:execute:broken');
    const response = await post(
      'broken',
      token,
      { method: 'tools/call', params: { name: 'anything', arguments: {} } },
      { 'mcp-method': 'tools/call', 'mcp-name': 'anything' },
    );
    assert.equal(response.status, 200);
    const text = await response.text();
    assert.match(text, /"isError":true/);
    assert.match(text, /MCP server \\"broken\\"/);
  });

  test('JSON-RPC 2.0 §5.1: outside tools/call, an unreachable upstream is an error naming the server, and the upstream’s own errors keep their code', async () => {
    const broken = await tokenFor('broken', 'prompts:list');
    const listed = await post('broken', broken.token, { method: 'prompts/list', params: {} });
    const failure = (await messageOf(listed)) as { error?: { code: number; message: string } };
    assert.equal(failure.error?.code, -32603);
    assert.match(failure.error?.message ?? '', /MCP server "broken"/);

    const { token } = await tokenFor('notes', 'prompts:execute');
    const client = await connect('notes', token);
    try {
      await assert.rejects(
        client.getPrompt({ name: 'no_such_prompt' }),
        (err: { code?: number }) => err.code === -32602,
      );
    } finally {
      await client.close();
    }
  });

  test('No token passthrough: the HTTP upstream never sees the Authorization header, only a Gatehouse-signed identity assertion for it', async () => {
    const { token, clientId } = await tokenFor('remote', 'tools:list tools:execute:remote');
    const client = await connect('remote', token);
    let seen: { identity: string | null; authorization: string | null };
    try {
      seen = JSON.parse(textOf(await client.callTool({ name: 'headers', arguments: {} })));
    } finally {
      await client.close();
    }
    assert.equal(seen.authorization, null);
    assert.ok(seen.identity, 'an identity assertion');
    const { payload } = await jwtVerify(seen.identity, signing.publicKey, { audience: upstreamHttp.url });
    assert.equal(payload.sub, clientId);
    assert.equal(payload.client_id, clientId);
    assert.equal(payload.scope, 'tools:list tools:execute:remote');
    assert.equal(payload.iss, as.issuer);
    assert.ok(typeof payload.jti === 'string');
    assert.ok((payload.exp as number) - (payload.iat as number) <= 300);
    assert.equal(decodeProtectedHeader(seen.identity).alg, 'ES256');
    assert.notEqual(decodeJwt(seen.identity).jti, decodeJwt(token).jti);
  });
});

describe('gateway: audit trail', () => {
  test('audit: each call is recorded (allowed, denied, upstream error) with user, client and duration; arguments only as a SHA-256', async () => {
    audit.length = 0;
    const { token, clientId } = await tokenFor('notes', 'tools:list tools:execute:notes:read resources:read');
    const client = await connect('notes', token);
    try {
      await client.callTool({ name: 'read_note', arguments: { name: 'secret-argument' } });
      await client.readResource({ uri: 'note://readme' });
    } finally {
      await client.close();
    }
    await post(
      'notes',
      token,
      {
        method: 'tools/call',
        params: { name: 'write_note', arguments: { name: 'x', text: 'secret-denied' } },
      },
      { 'mcp-method': 'tools/call', 'mcp-name': 'write_note' },
    );
    const broken = await tokenFor('broken', 'tools:execute:broken');
    await post('broken', broken.token, { method: 'tools/call', params: { name: 'anything', arguments: {} } });

    const summary = audit.map((e) => [e.detail.server, e.detail.method, e.detail.name, e.detail.outcome]);
    assert.deepEqual(summary, [
      ['notes', 'tools/call', 'read_note', 'allowed'],
      ['notes', 'resources/read', 'note://readme', 'allowed'],
      ['notes', 'tools/call', 'write_note', 'denied'],
      ['broken', 'tools/call', 'anything', 'upstream_error'],
    ]);
    for (const event of audit.slice(0, 3)) {
      assert.equal(event.type, 'mcp.call');
      assert.equal(event.user_id, clientId);
      assert.equal(event.client_id, clientId);
      assert.equal(typeof event.detail.duration_ms, 'number');
      assert.match(event.detail.arguments_hmac ?? '', /^[A-Za-z0-9_-]{43}$/);
    }
    assert.equal(audit[3]?.detail.arguments_hmac, undefined, 'not hashed unless configured');
    assert.doesNotMatch(JSON.stringify(audit), /secret-/);
  });
});

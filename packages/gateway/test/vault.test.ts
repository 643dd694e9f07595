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
import { Client, ProtocolError, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { Client as V1Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as V1Transport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
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
/** Authorization headers the upstream refuses with 401. */
const refused = new Set<string>();

before(async () => {
  upstreamAs = await startUpstreamAs();
  const handler = createMcpHandler(() => tokenUpstream());
  const http = createServer();
  const origin = await listen(http);
  http.on(
    'request',
    toNodeListener(async (request) => {
      const authorization = request.headers.get('authorization');
      received.push(authorization);
      // An upstream API that no longer accepts a token (revoked at the provider) answers 401.
      if (authorization !== null && refused.has(authorization)) return new Response(null, { status: 401 });
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
      credentialRejected: (_server, userId, isRejected) => as.as.vault.rejected(userId, 'github', isRejected),
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

/** The SDK v2 client: 2025-11-25 by default (`initialize`), or pinned to the stateless 2026-07-28. */
const MODERN = { versionNegotiation: { mode: { pin: '2026-07-28' } } } as const;

async function connect(
  token: string,
  options: ConstructorParameters<typeof Client>[1] = {},
): Promise<Client> {
  const client = new Client({ name: 'vault-gateway-test', version: '1.0.0' }, options);
  await client.connect(
    new StreamableHTTPClientTransport(new URL(`${as.issuer}/mcp/github`), {
      requestInit: { headers: { authorization: `Bearer ${token}` } },
    }),
  );
  return client;
}

type ToolResult = { content: Array<{ text: string }>; isError?: boolean };
type Elicitation = { mode?: string; url?: string; message?: string };

/** A 2026-07-28 client declaring URL-mode elicitation; `answer` is the user's side of each elicitation. */
async function urlModeClient(
  token: string,
  answer: (params: Elicitation) => { action: 'accept' | 'decline' },
): Promise<Client> {
  const client = new Client(
    { name: 'vault-gateway-test', version: '1.0.0' },
    { capabilities: { elicitation: { url: {} } }, ...MODERN },
  );
  client.setRequestHandler('elicitation/create', async (request) => answer(request.params as Elicitation));
  await client.connect(
    new StreamableHTTPClientTransport(new URL(`${as.issuer}/mcp/github`), {
      requestInit: { headers: { authorization: `Bearer ${token}` } },
    }),
  );
  return client;
}

describe('gateway with the token vault', () => {
  test('RFC 6749 §6, issue #12: 20 parallel tool calls on an expired upstream token make exactly one upstream refresh, and all carry the new token', async () => {
    const alice = await signIn('alice');
    const refreshToken = await upstreamAs.seedRefreshToken(alice.userId);
    // Already expired: the next use refreshes it first.
    await as.as.vault.save(alice.userId, 'github', {
      access_token: 'alice-old-access',
      refresh_token: refreshToken,
      expires_in: -60,
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

  test('issue #12: a client that cannot be sent to the connect page gets a JSON-RPC error naming it; a disabled user’s tokens serve no one', async () => {
    const bob = await signIn('bob');
    // 2026-07-28 without `elicitation.url`: nothing to send the user to the page with.
    const client = await connect(bob.token, MODERN);
    try {
      received.length = 0;
      await assert.rejects(client.callTool({ name: 'credential', arguments: {} }), (err: Error) => {
        assert.ok(ProtocolError.isInstance(err), String(err));
        assert.match(err.message, new RegExp(`connect it at ${as.issuer}/connect/github`));
        // -32021: what it takes (URL-mode elicitation) is missing from the client's capabilities.
        assert.equal((err as ProtocolError).code, -32021);
        return true;
      });
      assert.deepEqual(received, [], 'the upstream is not called without the user’s token');

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
      await assert.rejects(client.callTool({ name: 'credential', arguments: {} }), (err: Error) => {
        assert.doesNotMatch(err.message, /bob-access/);
        return true;
      });
      assert.deepEqual(received, []);
    } finally {
      await client.close();
    }
  });

  test('issue #12: an upstream that refuses the user’s token (401) gets a renewed one in the same call: the vault refreshes it once and the call is tried again', async () => {
    const frank = await signIn('frank');
    const refreshToken = await upstreamAs.seedRefreshToken(frank.userId);
    await as.as.vault.save(frank.userId, 'github', {
      access_token: 'frank-revoked-upstream',
      refresh_token: refreshToken,
      expires_in: 3600,
    });
    refused.add('Bearer frank-revoked-upstream');
    const refreshesBefore = upstreamAs.tokenRequests.get('refresh_token') ?? 0;
    const client = await connect(frank.token);
    try {
      const result = (await client.callTool({ name: 'credential', arguments: {} })) as ToolResult;
      const seen = (JSON.parse(result.content[0]?.text ?? '{}') as Seen).authorization;
      assert.match(seen ?? '', /^Bearer \S+$/);
      assert.notEqual(seen, 'Bearer frank-revoked-upstream');
      assert.equal((upstreamAs.tokenRequests.get('refresh_token') ?? 0) - refreshesBefore, 1);
    } finally {
      await client.close();
    }
  });

  test('issue #12: an upstream that refuses a token the vault cannot renew (no refresh token): the user is told to reconnect', async () => {
    const gina = await signIn('gina');
    await as.as.vault.save(gina.userId, 'github', { access_token: 'gina-revoked-upstream' });
    refused.add('Bearer gina-revoked-upstream');
    const client = await connect(gina.token, MODERN);
    try {
      await assert.rejects(client.callTool({ name: 'credential', arguments: {} }), (err: Error) => {
        assert.match(err.message, new RegExp(`reconnect it at ${as.issuer}/connect/github`));
        assert.doesNotMatch(err.message, /gina-revoked/);
        return true;
      });
      // Not broken in the store: one refusal may be the upstream's own fault, and must not
      // disconnect every user at once.
      assert.equal((await as.store.getConnection(gina.userId, 'github'))?.state, 'active');
    } finally {
      await client.close();
    }
  });

  test('MCP URL-mode elicitation (2026-07-28 input_required), issue #12: a client declaring elicitation.url is sent to the connect page in the middle of the tool call, and the call completes once the user has connected', async () => {
    const carol = await signIn('carol');
    const asked: Elicitation[] = [];
    const client = await urlModeClient(carol.token, (params) => {
      asked.push(params);
      // The user opens the page and connects in the browser, a moment after the client's accept:
      // the retried call waits for the connection instead of failing.
      setTimeout(
        () =>
          void as.as.vault.save(carol.userId, 'github', { access_token: 'carol-access', expires_in: 3600 }),
        1200,
      );
      return { action: 'accept' };
    });
    try {
      const result = (await client.callTool({ name: 'credential', arguments: {} })) as ToolResult;
      assert.equal(asked.length, 1);
      assert.equal(asked[0]?.mode, 'url');
      assert.equal(asked[0]?.url, `${as.issuer}/connect/github`);
      assert.match(asked[0]?.message ?? '', /needs your account/);
      assert.equal(
        (JSON.parse(result.content[0]?.text ?? '{}') as Seen).authorization,
        'Bearer carol-access',
      );
    } finally {
      await client.close();
    }
  });

  test('MCP URL-mode elicitation, issue #12: declining to connect ends the call with the error naming the page, and nothing reaches the upstream', async () => {
    const dave = await signIn('dave');
    let asked = 0;
    const client = await urlModeClient(dave.token, () => {
      asked++;
      return { action: 'decline' };
    });
    received.length = 0;
    try {
      await assert.rejects(client.callTool({ name: 'credential', arguments: {} }), (err: Error) => {
        assert.match(err.message, new RegExp(`connect it at ${as.issuer}/connect/github`));
        return true;
      });
      assert.equal(asked, 1, 'the user was asked once');
      assert.deepEqual(received, []);
    } finally {
      await client.close();
    }
  });

  test('issue #12: an accept the gateway never asked for (no request state it minted) holds no call open: the user is asked for real', async () => {
    const hank = await signIn('hank');
    let asked = 0;
    const client = await urlModeClient(hank.token, () => {
      asked++;
      return { action: 'decline' };
    });
    try {
      const started = performance.now();
      await assert.rejects(
        client.request({
          method: 'tools/call',
          params: {
            name: 'credential',
            arguments: {},
            inputResponses: { gatehouse_connect: { action: 'accept' } },
            requestState: '1.forged',
          },
        }),
        (err: Error) => {
          assert.match(err.message, new RegExp(`connect it at ${as.issuer}/connect/github`));
          return true;
        },
      );
      assert.ok(performance.now() - started < 5000, 'not held for the connect wait');
      assert.equal(asked, 1, 'the forged answer was ignored and the user asked');
    } finally {
      await client.close();
    }
  });

  test('MCP 2025-11-25 URLElicitationRequiredError (-32042), issue #12: a 2025-era client (SDK v1) gets the connect page as a URL elicitation in the error', async () => {
    const erin = await signIn('erin');
    const client = new V1Client(
      { name: 'vault-gateway-v1', version: '1.0.0' },
      { capabilities: { elicitation: { url: {} } } },
    );
    await client.connect(
      new V1Transport(new URL(`${as.issuer}/mcp/github`), {
        requestInit: { headers: { authorization: `Bearer ${erin.token}` } },
      }),
    );
    try {
      await assert.rejects(
        client.callTool({ name: 'credential', arguments: {} }),
        (err: Error & { code?: number; data?: unknown }) => {
          assert.equal(err.code, -32042, String(err));
          const data = err.data as {
            elicitations?: Array<{ mode: string; url: string; elicitationId: string }>;
          };
          assert.equal(data.elicitations?.[0]?.mode, 'url');
          assert.equal(data.elicitations?.[0]?.url, `${as.issuer}/connect/github`);
          assert.ok(data.elicitations?.[0]?.elicitationId);
          assert.match(err.message, new RegExp(`${as.issuer}/connect/github`));
          return true;
        },
      );
    } finally {
      await client.close();
    }
  });
});

type Seen = { authorization: string | null };

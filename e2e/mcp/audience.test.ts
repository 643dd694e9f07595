import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  Client as ClientV2,
  StreamableHTTPClientTransport as TransportV2,
} from '@modelcontextprotocol/client';
import { Client as ClientV1 } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as TransportV1 } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { decodeJwt } from 'jose';
import { recordingFetch } from './traffic.ts';
import { startTwoResources } from './two-resources.ts';
import { rawToolsList } from './wire.ts';

/**
 * RFC 8707 audience restriction, end to end: a token the AS minted for one of its MCP servers is
 * refused by another, through the official SDK clients (v1 and v2) and on the wire.
 */
const SCOPE = 'tools:list tools:execute:filesystem';

let env: Awaited<ReturnType<typeof startTwoResources>>;
let forMcp: string;
let forBilling: string;
before(async () => {
  env = await startTwoResources();
  forMcp = await env.mint(env.resources.mcp, SCOPE);
  forBilling = await env.mint(env.resources.billing, SCOPE);
});
after(() => env?.close());

/** Connects an SDK client with a fixed bearer token and lists the tools; the traffic is recorded. */
const sdks = {
  v2: async (url: string, token: string, traffic: ReturnType<typeof recordingFetch>) => {
    const client = new ClientV2({ name: 'e2e-audience-v2', version: '1.0.0' });
    await client.connect(
      new TransportV2(new URL(url), { authProvider: { token: async () => token }, fetch: traffic.fetch }),
    );
    const { tools } = await client.listTools();
    await client.close();
    return tools.map((t) => t.name);
  },
  v1: async (url: string, token: string, traffic: ReturnType<typeof recordingFetch>) => {
    const client = new ClientV1({ name: 'e2e-audience-v1', version: '1.0.0' });
    await client.connect(
      new TransportV1(new URL(url), {
        requestInit: { headers: { authorization: `Bearer ${token}` } },
        fetch: traffic.fetch,
      }),
    );
    const { tools } = await client.listTools();
    await client.close();
    return tools.map((t) => t.name);
  },
};

test('RFC 8707: the AS puts the requested resource, and only it, in the token’s aud', () => {
  assert.equal(decodeJwt(forMcp).aud, env.resources.mcp);
  assert.equal(decodeJwt(forBilling).aud, env.resources.billing);
});

test('RFC 6750 §3.1: a token for another resource of the same AS gets 401 invalid_token, on both MCP servers', async () => {
  for (const [url, token] of [
    [env.resources.mcp, forBilling],
    [env.resources.billing, forMcp],
  ] as const) {
    const response = await rawToolsList(url, token);
    assert.equal(response.status, 401, url);
    const challenge = response.headers.get('www-authenticate') ?? '';
    assert.match(challenge, /^Bearer /);
    assert.match(challenge, /error="invalid_token"/);
    assert.ok(challenge.includes(`resource_metadata="${env.issuer}/.well-known/oauth-protected-resource`));
  }
});

for (const [name, listTools] of Object.entries(sdks)) {
  describe(`official MCP SDK client ${name}`, () => {
    test('a token for <issuer>/billing/mcp is refused at <issuer>/mcp before any MCP handling', async () => {
      const traffic = recordingFetch();
      await assert.rejects(listTools(env.resources.mcp, forBilling, traffic));
      assert.deepEqual(traffic.lines(), ['POST /mcp 401']);
      assert.match(traffic.log[0]?.challenge ?? '', /error="invalid_token"/);
    });

    test('each token works at the resource it was minted for', async () => {
      const names = ['list_files', 'read_file', 'search_files', 'write_file'];
      assert.deepEqual((await listTools(env.resources.mcp, forMcp, recordingFetch())).sort(), names);
      assert.deepEqual((await listTools(env.resources.billing, forBilling, recordingFetch())).sort(), names);
    });
  });
}

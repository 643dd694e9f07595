/**
 * One server process of the guard benchmark, laid out as `gatehouse serve` lays it out: the
 * authorization server and the demo MCP server in one process on one port (SQLite store in a temp
 * folder), the demo at `<issuer>/mcp`. The orchestrator starts two of them, identical except that
 * one puts the guard in front of the demo (`protectDemo`, sharing the AS's revocation list as serve
 * does) and the other serves the demo bare. Both get the same requests, bearer token included.
 *
 * Run as a child process of bench/guard.ts (IPC channel required): it waits for
 * `{ type: 'start', guarded }`, answers `{ type: 'ready', url, token }`, then serves `cold` requests.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createDemoMcpServer, demoManifest, protectDemo } from '@gatehouse/demo-mcp';
import { manifestScopes } from '@gatehouse/resource';
import { createAuthorizationServer, createSecrets, SqliteStore, toNodeListener } from '@gatehouse/server';
import { mountMcpServer } from '../packages/cli/src/mount.ts';
import { toolsCallBody } from './guard-protocol.ts';

const SCOPE = manifestScopes(demoManifest).join(' ');

async function start(guarded: boolean) {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-bench-guard-'));
  const store = new SqliteStore(join(dir, 'gatehouse.db'));
  const http = createServer();
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  const masterSecret = randomBytes(32).toString('base64url');
  const as = await createAuthorizationServer({ issuer, store, masterSecret });
  const clientId = 'bench-guard';
  const clientSecret = `bench-${randomBytes(24).toString('base64url')}`;
  await store.createClient({
    client_id: clientId,
    kind: 'preregistered',
    client_name: 'Guard benchmark',
    redirect_uris: [],
    token_endpoint_auth_method: 'client_secret_basic',
    grant_types: ['client_credentials'],
    scope: SCOPE,
    secret_hash: createSecrets(masterSecret).hash(clientSecret),
    created_at: Math.floor(Date.now() / 1000),
  });
  const resource = `${issuer}/mcp`;
  const basic = `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString('base64')}`;
  /** A fresh access token (new jti) from the AS, by client_credentials, in process. */
  const mint = async (): Promise<string> => {
    const response = await as.fetch(
      new Request(`${issuer}/oauth/token`, {
        method: 'POST',
        headers: { authorization: basic, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'client_credentials', scope: SCOPE, resource }),
      }),
    );
    const body = (await response.json()) as { access_token?: string };
    if (!body.access_token) throw new Error(`client_credentials failed: ${JSON.stringify(body)}`);
    return body.access_token;
  };

  const dataDir = join(dir, 'demo');
  const protectedDemo = guarded
    ? protectDemo({
        dataDir,
        resource,
        authorizationServers: [issuer],
        revocations: as.revocations,
        fetch: (input, init) => as.fetch(new Request(input, init)),
      })
    : undefined;
  const bare = guarded ? undefined : createDemoMcpServer({ dataDir });
  const demoFetch = protectedDemo
    ? protectedDemo.fetch
    : (request: Request) => bare?.fetch(request) as Promise<Response>;
  mountMcpServer(as, '/mcp', demoFetch);
  http.on('request', toNodeListener(as.fetch, issuer));

  /**
   * The guard's own cost per request, first use of a token against a cached one: the guard as
   * `protectDemo` runs it (`guard.wrap`: body read once, bearer, verification, revocation, scope
   * policy, the request handed on) around a handler that answers at once, timed in process.
   * Tokens are minted outside the timing; one warm-up token first loads the JWKS.
   */
  async function cold(count: number): Promise<{ cold: number[]; cached: number[] }> {
    const guard = protectedDemo?.guard;
    if (!guard) return { cold: [], cached: [] };
    const guarded = guard.wrap(async (_request, _auth, { parsedBody }) =>
      parsedBody === undefined ? new Response(null, { status: 500 }) : new Response(null, { status: 204 }),
    );
    const request = (token: string) =>
      new Request(resource, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
          'mcp-protocol-version': '2025-11-25',
        },
        body: toolsCallBody,
      });
    const timed = async (token: string) => {
      const req = request(token);
      const started = performance.now();
      const response = await guarded(req);
      const micros = (performance.now() - started) * 1000;
      if (response.status !== 204) throw new Error(`the guard refused a fresh token: ${response.status}`);
      return micros;
    };
    await timed(await mint());
    const out = { cold: [] as number[], cached: [] as number[] };
    for (let i = 0; i < count; i++) {
      const token = await mint();
      out.cold.push(await timed(token));
      out.cached.push(await timed(token));
    }
    return out;
  }

  return {
    url: resource,
    token: await mint(),
    cold,
    async close() {
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
      await protectedDemo?.close();
      await bare?.close();
      await as.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

let server: Awaited<ReturnType<typeof start>> | undefined;
process.on('message', async (message: { type: string; id?: number; guarded?: boolean; count?: number }) => {
  try {
    if (message.type === 'start') {
      server = await start(message.guarded === true);
      process.send?.({ type: 'ready', url: server.url, token: server.token });
    } else if (message.type === 'cold' && server) {
      process.send?.({ type: 'cold', id: message.id, ...(await server.cold(message.count ?? 200)) });
    }
  } catch (err) {
    process.send?.({ type: 'error', id: message.id, error: String(err) });
  }
});
process.once('SIGTERM', async () => {
  await server?.close();
  process.exit(0);
});

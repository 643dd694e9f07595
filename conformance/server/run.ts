/**
 * Runs the official MCP conformance `server` scenarios against the demo MCP server exactly as
 * `gatehouse serve` runs it: behind the guard, at `<issuer>/mcp`, with a valid token from the real
 * authorization server.
 *
 * 1. `gatehouse clients add --confidential --scope "<every scope of the demo's manifest>"` in a
 *    fresh data folder, then `gatehouse serve --port 0`.
 * 2. A token from that AS by `client_credentials` (client_secret_basic) for `resource=<issuer>/mcp`.
 * 3. The conformance CLI cannot send an Authorization header, so it talks to a loopback-only front
 *    door (127.0.0.1) that forwards every request over HTTP to `<issuer>/mcp` and adds
 *    `Authorization: Bearer <token>` when the request has none. As any reverse proxy with its own
 *    public origin, it maps its own `Origin` to the issuer's; every other `Origin` (the DNS
 *    rebinding probe's `http://evil.example.com`) passes unchanged, so the guard judges it.
 *    The guard verifies the token fully on every request (signature, iss, aud, exp, typ, scope,
 *    revocation): nothing is bypassed.
 *
 * It runs the scenarios each MCP revision requires (`--requirements`), at that revision's wire:
 * 2025-11-25 (initialize handshake) and 2026-07-28 (stateless), each against its own baseline.
 *
 * Usage: node conformance/server/run.ts [2025-11-25|2026-07-28] [extra conformance args…]
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { demoManifest } from '@gatehouse/demo-mcp';
import { manifestScopes, toNodeListener } from '@gatehouse/resource';
import { addClient, serve } from '../../e2e/helpers/gatehouse-cli.ts';
import { startLoopbackServer } from '../../e2e/helpers/loopback.ts';
import { tempDir } from '../../e2e/helpers/temp.ts';

const here = path.dirname(fileURLToPath(import.meta.url));

/** The MCP revisions whose required server scenarios we run, each at its own wire version. */
export const REVISIONS = ['2025-11-25', '2026-07-28'] as const;
export type Revision = (typeof REVISIONS)[number];

/** The baseline of one revision: scenarios (or `scenario:check`) the protected demo fails, with reasons. */
export const expectedFailuresFile = (revision: Revision) =>
  path.join(here, `expected-failures-${revision}.yml`);

/** Hop-by-hop headers (RFC 9110 §7.6.1) a proxy does not forward. */
const HOP_BY_HOP = ['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'host', 'content-length'];

/** Starts `gatehouse serve`, mints the token and opens the front door; `url` is what the suite tests. */
export async function startConformanceTarget() {
  const data = await tempDir('gatehouse-conformance-');
  const scope = manifestScopes(demoManifest).join(' ');
  const client = await addClient(data.dir, {
    name: 'MCP conformance suite',
    redirectUris: [],
    confidential: true,
    scope,
  });
  const server = await serve(data.dir);
  const upstream = `${server.issuer}/mcp`;
  try {
    const response = await fetch(`${server.issuer}/oauth/token`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(`${client.client_id}:${client.client_secret}`).toString('base64')}`,
      },
      body: new URLSearchParams({ grant_type: 'client_credentials', scope, resource: upstream }),
    });
    const body = (await response.json()) as { access_token?: string; scope?: string };
    if (response.status !== 200 || !body.access_token) {
      throw new Error(`client_credentials failed: ${response.status} ${JSON.stringify(body)}`);
    }
    const token = body.access_token;

    let frontOrigin = '';
    const front = await startLoopbackServer((req, res) =>
      toNodeListener(async (request) => {
        const headers = new Headers(request.headers);
        for (const name of HOP_BY_HOP) headers.delete(name);
        if (headers.get('origin') === frontOrigin) headers.set('origin', server.issuer);
        if (!headers.has('authorization')) headers.set('authorization', `Bearer ${token}`);
        const { search } = new URL(request.url);
        const answer = await fetch(`${upstream}${search}`, {
          method: request.method,
          headers,
          body: request.body,
          signal: request.signal,
          redirect: 'manual',
          duplex: 'half',
        } as RequestInit);
        const out = new Headers(answer.headers);
        for (const name of HOP_BY_HOP) out.delete(name);
        return new Response(answer.body, {
          status: answer.status,
          statusText: answer.statusText,
          headers: out,
        });
      }, frontOrigin)(req, res),
    );
    frontOrigin = front.url;
    return {
      /** The front door's MCP URL, for the conformance CLI. */
      url: `${front.url}/mcp`,
      issuer: server.issuer,
      scope: body.scope ?? scope,
      async close() {
        await front.close();
        await server.stop();
        await data.remove();
      },
    };
  } catch (err) {
    await server.stop();
    await data.remove();
    throw err;
  }
}

/** Runs `conformance server --requirements <revision>` against its baseline; resolves with exit code and output. */
export async function runConformance(url: string, revision: Revision, extraArgs: string[] = []) {
  const bin = path.resolve(here, '../../node_modules/.bin/conformance');
  const args = [
    'server',
    '--url',
    url,
    '--requirements',
    revision,
    '--expected-failures',
    expectedFailuresFile(revision),
    ...extraArgs,
  ];
  const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'], env: process.env });
  let output = '';
  child.stdout.on('data', (d) => {
    output += d;
  });
  child.stderr.on('data', (d) => {
    output += d;
  });
  const code = await new Promise<number>((resolve) => child.on('close', (c) => resolve(c ?? 1)));
  return { code, output };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [first, ...rest] = process.argv.slice(2);
  const chosen = REVISIONS.filter((r) => r === first);
  const revisions = chosen.length ? chosen : REVISIONS;
  const extra = chosen.length ? rest : process.argv.slice(2);
  const target = await startConformanceTarget();
  try {
    for (const revision of revisions) {
      const { code, output } = await runConformance(target.url, revision, extra);
      process.stdout.write(`\n### MCP ${revision}\n${output}`);
      if (code !== 0) process.exitCode = code;
    }
  } finally {
    await target.close();
  }
}

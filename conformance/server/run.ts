/**
 * Runs the official MCP conformance `server` scenarios against the demo MCP server *behind the
 * guard*, with a valid token.
 *
 * The conformance CLI cannot send an Authorization header, so the server it talks to is a
 * loopback-only front door (127.0.0.1) that adds `Authorization: Bearer <token>` to each request
 * and hands it to the protected endpoint in the same process. The token is minted by a test
 * authorization server (jose, RFC 8414 metadata, JWKS on 127.0.0.1) for this resource with every
 * scope the demo's manifest lists, and the guard verifies it fully on every request (signature,
 * iss, aud, exp, typ, scopes) — nothing of the guard is bypassed. A request that already carries
 * an Authorization header is passed through untouched.
 *
 * Usage: node conformance/server/run.ts [extra conformance args…]
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { protectDemo } from '@gatehouse/demo-mcp';
import { manifestScopes, toNodeListener } from '@gatehouse/resource';
import { startTestAuthorizationServer } from '../../packages/resource/test/fixture-as.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
export const expectedFailuresFile = path.join(here, 'expected-failures.yml');

/** Starts the AS, the protected demo and the token-injecting front door; returns the MCP URL. */
export async function startConformanceTarget() {
  const as = await startTestAuthorizationServer();
  const dataDir = await mkdtemp(path.join(tmpdir(), 'gatehouse-conformance-'));
  let handler: (request: Request) => Promise<Response> = async () => new Response(null, { status: 503 });
  let origin = '';
  const server = createServer((req, res) => toNodeListener((r) => handler(r), { origin })(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const resource = `${origin}/mcp`;
  const demo = protectDemo({ dataDir, resource, authorizationServers: [as.issuer] });
  const token = await as.mint({
    aud: resource,
    scope: manifestScopes(demo.demo.manifest).join(' '),
    sub: 'conformance',
    client_id: 'conformance-suite',
    expiresIn: 3600,
  });
  handler = (request) => {
    if (request.headers.has('authorization')) return demo.fetch(request);
    const headers = new Headers(request.headers);
    headers.set('authorization', `Bearer ${token}`);
    return demo.fetch(new Request(request, { headers }));
  };
  return {
    url: resource,
    async close() {
      await demo.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await as.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Runs `conformance server` against the target; resolves with its exit code and output. */
export async function runConformance(url: string, extraArgs: string[] = []) {
  const bin = path.resolve(here, '../../node_modules/.bin/conformance');
  const args = ['server', '--url', url, '--expected-failures', expectedFailuresFile, ...extraArgs];
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
  const target = await startConformanceTarget();
  try {
    const { code, output } = await runConformance(target.url, process.argv.slice(2));
    process.stdout.write(output);
    process.exitCode = code;
  } finally {
    await target.close();
  }
}

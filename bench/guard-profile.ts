/**
 * The guard's price in process, for profiling: the same `tools/call` sent through the guarded demo
 * (`protectDemo`, as `gatehouse serve` wires it) and through the bare demo, 16 in flight, no HTTP,
 * so that the only difference between the two loops is the guard. Prints µs per call for each and
 * the difference; run under `node --cpu-prof` and read the profile with `bench/profile-summary.ts`.
 *
 * Usage: node [--cpu-prof --cpu-prof-dir DIR] bench/guard-profile.ts [--calls 20000] [--only guarded|bare]
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { createDemoMcpServer, demoManifest, protectDemo } from '@gatehouse/demo-mcp';
import { manifestScopes } from '@gatehouse/resource';
import { createAuthorizationServer, createSecrets, SqliteStore } from '@gatehouse/server';
import { toolsCallBody } from './guard-protocol.ts';

const { values } = parseArgs({
  options: {
    calls: { type: 'string', default: '20000' },
    inflight: { type: 'string', default: '16' },
    rounds: { type: 'string', default: '3' },
    only: { type: 'string' },
  },
});
const calls = Number(values.calls);
const inflight = Number(values.inflight);
const SCOPE = manifestScopes(demoManifest).join(' ');

const dir = mkdtempSync(join(tmpdir(), 'gatehouse-guard-profile-'));
const store = new SqliteStore(join(dir, 'gatehouse.db'));
const issuer = 'http://127.0.0.1:9';
const resource = `${issuer}/mcp`;
const masterSecret = randomBytes(32).toString('base64url');
const as = await createAuthorizationServer({ issuer, store, masterSecret });
const clientSecret = `bench-${randomBytes(24).toString('base64url')}`;
await store.createClient({
  client_id: 'bench-guard',
  kind: 'preregistered',
  client_name: 'Guard profile',
  redirect_uris: [],
  token_endpoint_auth_method: 'client_secret_basic',
  grant_types: ['client_credentials'],
  scope: SCOPE,
  secret_hash: createSecrets(masterSecret).hash(clientSecret),
  created_at: Math.floor(Date.now() / 1000),
});
const minted = await as.fetch(
  new Request(`${issuer}/oauth/token`, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`bench-guard:${clientSecret}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({ grant_type: 'client_credentials', scope: SCOPE, resource }),
  }),
);
const token = ((await minted.json()) as { access_token: string }).access_token;

const guarded = protectDemo({
  dataDir: join(dir, 'guarded'),
  resource,
  authorizationServers: [issuer],
  revocations: as.revocations,
  fetch: (input, init) => as.fetch(new Request(input, init)),
});
const bare = createDemoMcpServer({ dataDir: join(dir, 'bare') });
const headers = {
  authorization: `Bearer ${token}`,
  'content-type': 'application/json',
  accept: 'application/json, text/event-stream',
  'mcp-protocol-version': '2025-11-25',
};
const variants = {
  guarded: guarded.fetch,
  bare: (request: Request) => bare.fetch(request),
};

async function run(fetchFn: (r: Request) => Promise<Response>, n: number): Promise<number> {
  let next = 0;
  const started = performance.now();
  const worker = async () => {
    while (next < n) {
      next++;
      const response = await fetchFn(new Request(resource, { method: 'POST', headers, body: toolsCallBody }));
      const text = await response.text();
      if (response.status !== 200 || !text.includes('Welcome')) throw new Error(`${response.status} ${text}`);
    }
  };
  await Promise.all(Array.from({ length: inflight }, worker));
  return ((performance.now() - started) * 1000) / n;
}

/**
 * The guard alone: `wrap` around a handler that takes the body as an MCP SDK handler does (the
 * pre-parsed body when the guard hands one over, else a clone of the request read and parsed),
 * against that handler alone. Steadier than the full loop on a busy machine.
 */
const sdkLikeHandler = async (request: Request, parsedBody?: unknown) => {
  const body = parsedBody ?? JSON.parse(await request.clone().text());
  return new Response(JSON.stringify({ ok: (body as { id: number }).id }));
};
const guardOnly = {
  'guard-only': guarded.guard.wrap((request, _auth, ...rest: unknown[]) =>
    sdkLikeHandler(request, (rest[0] as { parsedBody?: unknown } | undefined)?.parsedBody),
  ),
  'handler-only': (request: Request) => sdkLikeHandler(request),
};
async function runSimple(fetchFn: (r: Request) => Promise<Response>, n: number): Promise<number> {
  let next = 0;
  const started = performance.now();
  const worker = async () => {
    while (next < n) {
      next++;
      const response = await fetchFn(new Request(resource, { method: 'POST', headers, body: toolsCallBody }));
      if (response.status !== 200) throw new Error(`${response.status} ${await response.text()}`);
      await response.text();
    }
  };
  await Promise.all(Array.from({ length: inflight }, worker));
  return ((performance.now() - started) * 1000) / n;
}
const simple: Record<string, number[]> = { 'guard-only': [], 'handler-only': [] };
for (let round = 0; round < 5; round++) {
  for (const [name, fn] of Object.entries(guardOnly)) {
    const us = await runSimple(fn, round === 0 ? 5000 : 20000);
    if (round > 0) simple[name]?.push(us);
  }
}
const low = (xs: number[] | undefined) => (xs?.length ? Math.min(...xs) : NaN);
console.log(
  `guard alone: handler ${low(simple['handler-only']).toFixed(1)} µs, guard + handler ${low(simple['guard-only']).toFixed(1)} µs, guard +${(low(simple['guard-only']) - low(simple['handler-only'])).toFixed(1)} µs/call`,
);

const names = values.only ? [values.only as keyof typeof variants] : (['bare', 'guarded'] as const);
for (const name of names) await run(variants[name], 2000);
const results: Record<string, number[]> = { bare: [], guarded: [] };
for (let round = 0; round < Number(values.rounds); round++) {
  for (const name of names) {
    const us = await run(variants[name], calls);
    results[name]?.push(us);
    console.log(`round ${round + 1} ${name.padEnd(8)} ${us.toFixed(1)} µs/call`);
  }
}
const best = (xs: number[] | undefined) => (xs?.length ? Math.min(...xs) : NaN);
if (!values.only) {
  const b = best(results.bare);
  const g = best(results.guarded);
  console.log(
    `best: bare ${b.toFixed(1)} µs, guarded ${g.toFixed(1)} µs, guard +${(g - b).toFixed(1)} µs/call, ratio ${(b / g).toFixed(3)}×`,
  );
}
await guarded.close();
await bare.close();
await as.close();
await store.close();
rmSync(dir, { recursive: true, force: true });

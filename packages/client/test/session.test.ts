import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import {
  FileTokenStore,
  headlessInteraction,
  isClientError,
  MemoryTokenStore,
  OAuthClient,
} from '../src/index.ts';
import { type Fixture, startFixture } from './fixture-server.ts';

let fx: Fixture;
let dir: string;
before(async () => {
  fx = await startFixture();
  dir = await mkdtemp(join(tmpdir(), 'gatehouse-client-'));
});
after(async () => {
  await fx.close();
  await rm(dir, { recursive: true, force: true });
});

const key = new Uint8Array(32).fill(7);
const call = (c: OAuthClient) => c.fetch(fx.resource, { method: 'POST', body: '{}' });

function client(store = new MemoryTokenStore() as FileTokenStore | MemoryTokenStore, now = () => 1_000_000) {
  return new OAuthClient({ resource: fx.resource, store, now, interaction: headlessInteraction() });
}

test('MCP authorization: a 401 leads to discovery, DCR, code flow with PKCE, and one retry that succeeds', async () => {
  const c = client();
  const res = await call(c);
  assert.equal(res.status, 200);
  const t = await c.storedTokens();
  assert.equal(t?.issuer, fx.base);
  assert.equal(t?.resource, fx.resource);
});

test('single-flight: 20 concurrent calls with an expired access token make exactly one refresh', async () => {
  let clock = 1_000_000;
  const c = client(new MemoryTokenStore(), () => clock);
  assert.equal((await call(c)).status, 200);
  clock += 3600_000; // the access token has just expired
  const before = fx.counts.refresh;
  const results = await Promise.all(Array.from({ length: 20 }, () => call(c)));
  assert.ok(results.every((r) => r.status === 200));
  assert.equal(fx.counts.refresh - before, 1);
});

test('single-flight across processes: two clients sharing a file store refresh once between them', async () => {
  let clock = 1_000_000;
  const path = join(dir, 'shared.json');
  const a = client(new FileTokenStore({ path, key }), () => clock);
  const b = client(new FileTokenStore({ path, key }), () => clock);
  assert.equal((await call(a)).status, 200);
  clock += 3600_000;
  const before = fx.counts.refresh;
  const results = await Promise.all([call(a), call(b), call(a), call(b)]);
  assert.ok(results.every((r) => r.status === 200));
  assert.equal(fx.counts.refresh - before, 1);
});

test('token store: the file holds no token in plain text', async () => {
  const path = join(dir, 'secret.json');
  const c = client(new FileTokenStore({ path, key }));
  assert.equal((await call(c)).status, 200);
  const t = await c.storedTokens();
  const raw = await readFile(path, 'utf8');
  assert.ok(t?.access_token && t.refresh_token);
  assert.ok(!raw.includes(t.access_token) && !raw.includes(t.refresh_token) && !raw.includes(fx.base));
});

test('RFC 6749 §5.2: invalid_grant on refresh yields reauthorization_required, once, without looping', async () => {
  let clock = 1_000_000;
  const c = client(new MemoryTokenStore(), () => clock);
  assert.equal((await call(c)).status, 200);
  fx.refreshTokens.clear(); // the grant was revoked
  clock += 3600_000;
  const before = fx.counts.token;
  await assert.rejects(call(c), (e) => isClientError(e, 'reauthorization_required'));
  assert.equal(fx.counts.token - before, 1);
  assert.equal(await c.storedTokens(), undefined);
});

test('reactive refresh: a 401 on a still-fresh token refreshes and retries the request once', async () => {
  const c = client();
  assert.equal((await call(c)).status, 200);
  fx.valid.clear(); // the resource stops accepting the token
  const before = fx.counts.refresh;
  assert.equal((await call(c)).status, 200);
  assert.equal(fx.counts.refresh - before, 1);
});

test('RFC 9207: an authorization response from another issuer is refused before the token request', async () => {
  fx.options.iss = 'wrong';
  try {
    const before = fx.counts.token;
    await assert.rejects(call(client()), (e) => isClientError(e, 'iss_mismatch'));
    assert.equal(fx.counts.token, before);
  } finally {
    fx.options.iss = 'correct';
  }
});

test('RFC 8414 §3.3: metadata whose issuer differs from the one asked for is refused', async () => {
  fx.options.issuer = 'http://127.0.0.1:1/other';
  try {
    await assert.rejects(call(client()), (e) => isClientError(e, 'issuer_mismatch'));
  } finally {
    delete fx.options.issuer;
  }
});

test('MCP authorization: an AS that does not list S256 is refused', async () => {
  fx.options.s256 = false;
  try {
    await assert.rejects(call(client()), (e) => isClientError(e, 'pkce_unsupported'));
  } finally {
    delete fx.options.s256;
  }
});

test('bearer tokens are never sent to another origin', async () => {
  const c = client();
  assert.equal((await call(c)).status, 200);
  let seen: string | null = 'unset';
  const { createServer } = await import('node:http');
  const other = createServer((req, res) => {
    seen = req.headers.authorization ?? null;
    res.end('ok');
  });
  await new Promise<void>((r) => other.listen(0, '127.0.0.1', r));
  const port = (other.address() as { port: number }).port;
  await (await c.fetch(`http://127.0.0.1:${port}/`)).text();
  other.close();
  assert.equal(seen, null);
});

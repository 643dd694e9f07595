import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { auth as authV2 } from '@modelcontextprotocol/client';
import { auth as authV1 } from '@modelcontextprotocol/sdk/client/auth.js';
import { headlessInteraction, isClientError, McpOAuthProvider, MemoryTokenStore } from '../src/index.ts';
import { type Fixture, startFixture } from './fixture-server.ts';

/**
 * McpOAuthProvider driven by the SDKs' own `auth()` (v2 and v1) against the loopback fixture AS,
 * which counts what clients do.
 */
let fx: Fixture;
before(async () => {
  fx = await startFixture();
});
after(async () => {
  await fx.close();
});

function provider(now = () => 1_000_000, store = new MemoryTokenStore()) {
  return new McpOAuthProvider({ resource: fx.resource, store, now, interaction: headlessInteraction() });
}

const sdks = [
  ['v2', authV2],
  ['v1', authV1],
] as const;

for (const [name, auth] of sdks) {
  test(`SDK ${name} auth(): REDIRECT, then the checked callback's code is redeemed and the tokens land in our store`, async () => {
    const p = provider();
    const serverUrl = fx.resource;
    assert.equal(await auth(p, { serverUrl }), 'REDIRECT');
    assert.ok(p.authorizationPending);
    const params = await p.authorizationResponse();
    const code = params.get('code') as string;
    assert.equal(
      await auth(p, { serverUrl, authorizationCode: code, iss: params.get('iss') ?? undefined }),
      'AUTHORIZED',
    );
    const stored = await p.oauth.storedTokens();
    assert.equal(stored?.issuer, fx.base);
    assert.equal(stored?.resource, fx.resource);
    assert.equal(stored?.client_id, (await p.oauth.store.getClient(fx.base))?.client_id, 'registered by us');
    assert.equal((await p.tokens())?.access_token, stored?.access_token);
  });

  test(`RFC 9207 with SDK ${name}: a callback from another issuer is refused before any token request`, async () => {
    fx.options.iss = 'wrong';
    const p = provider();
    try {
      assert.equal(await auth(p, { serverUrl: fx.resource }), 'REDIRECT');
      const before = fx.counts.token;
      await assert.rejects(p.authorizationResponse(), (e) => isClientError(e, 'iss_mismatch'));
      assert.equal(fx.counts.token, before);
    } finally {
      fx.options.iss = 'correct';
      await p.close();
    }
  });

  test(`MCP authorization with SDK ${name}: our discovery refuses an AS without S256 before registering`, async () => {
    fx.options.s256 = false;
    const p = provider();
    try {
      const before = fx.counts.register;
      await assert.rejects(auth(p, { serverUrl: fx.resource }), (e) => isClientError(e, 'pkce_unsupported'));
      assert.equal(fx.counts.register, before);
    } finally {
      delete fx.options.s256;
      await p.close();
    }
  });
}

async function authorized(now: () => number) {
  const p = provider(now);
  await authV2(p, { serverUrl: fx.resource });
  const params = await p.authorizationResponse();
  await authV2(p, {
    serverUrl: fx.resource,
    authorizationCode: params.get('code') as string,
    iss: params.get('iss') ?? undefined,
  });
  return p;
}

test('single-flight: 20 concurrent per-request token reads with an expired access token make one refresh', async () => {
  let clock = 1_000_000;
  const p = await authorized(() => clock);
  const old = (await p.tokens())?.access_token;
  clock += 3600_000;
  const before = fx.counts.refresh;
  const reads = await Promise.all(Array.from({ length: 20 }, () => p.tokens()));
  assert.equal(fx.counts.refresh - before, 1);
  assert.equal(new Set(reads.map((t) => t?.access_token)).size, 1);
  assert.notEqual(reads[0]?.access_token, old);
});

test('a dead grant reads as no tokens (the SDK then starts a fresh authorization) and is forgotten', async () => {
  let clock = 1_000_000;
  const p = await authorized(() => clock);
  fx.refreshTokens.clear();
  clock += 3600_000;
  assert.equal(await p.tokens(), undefined);
  assert.equal(await p.oauth.storedTokens(), undefined);
});

test("single-flight on the SDK's reactive path: 20 concurrent auth() refreshes through provider.fetch spend the refresh token once", async () => {
  const p = await authorized(() => 1_000_000);
  const before = fx.counts.refresh;
  const results = await Promise.all(
    Array.from({ length: 20 }, () => authV2(p, { serverUrl: fx.resource, fetchFn: p.fetch })),
  );
  assert.ok(results.every((r) => r === 'AUTHORIZED'));
  assert.equal(fx.counts.refresh - before, 1);
  const stored = await p.oauth.storedTokens();
  assert.ok(
    stored && fx.valid.has(stored.access_token) && fx.refreshTokens.has(stored.refresh_token as string),
  );
  await p.close();
});

test('provider.fetch answers a refresh of a dead grant with invalid_grant, so the SDK starts over instead of looping', async () => {
  const p = await authorized(() => 1_000_000);
  fx.refreshTokens.clear();
  const before = fx.counts.refresh;
  assert.equal(await authV2(p, { serverUrl: fx.resource, fetchFn: p.fetch }), 'REDIRECT');
  assert.equal(fx.counts.refresh - before, 1);
  assert.equal(await p.oauth.storedTokens(), undefined);
  await p.close();
});

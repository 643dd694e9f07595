/**
 * The guard depends on the authorization server for metadata, keys, introspection and the
 * revocation feed. These tests put a proxy that fails on command between them: every request has
 * a deadline, a guard that cannot vouch for its revocation list fails closed, a failed key refresh
 * keeps the last good keys, and nothing reported to onError carries a token.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { inspect } from 'node:util';
import { DeadlineExceededError } from '@gatehouse/core';
import { createGuard, type GuardOptions } from '../src/index.ts';
import { type FaultyProxy, startFaultyProxy } from './faulty-proxy.ts';
import { startTestAuthorizationServer, type TestAuthorizationServer } from './fixture-as.ts';

const RESOURCE = 'http://127.0.0.1:9999/mcp';
let clock = Date.parse('2026-03-01T00:00:00Z');
const now = () => clock;
let as: TestAuthorizationServer;
let proxy: FaultyProxy;
before(async () => {
  as = await startTestAuthorizationServer({ now, resource: RESOURCE });
  proxy = await startFaultyProxy(as.issuer);
});
after(async () => {
  await proxy.close();
  await as.close();
});
beforeEach(() => {
  proxy.fault = () => undefined;
});

/** A guard that reaches the AS only through the proxy, with short deadlines and retries. */
function makeGuard(extra: Partial<GuardOptions> = {}) {
  const reports: unknown[] = [];
  const guard = createGuard({
    resource: RESOURCE,
    authorizationServers: [as.issuer],
    manifest: false,
    fetch: proxy.fetch,
    now,
    timeoutMs: 200,
    onError: (err) => reports.push(err),
    ...extra,
  });
  const handler = guard.wrap(async () => Response.json({ ok: true }));
  const call = (token?: string) =>
    handler(
      new Request(RESOURCE, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(token ? { authorization: `Bearer ${token}` } : {}),
        },
        body: '{}',
      }),
    );
  return { guard, handler, call, reports };
}

/** Waits (without asserting on time) until `check` holds; the test runner's timeout bounds it. */
async function eventually(check: () => Promise<boolean>): Promise<void> {
  while (!(await check())) await new Promise((resolve) => setTimeout(resolve, 10));
}

function assertNoTokenIn(reports: unknown[], tokens: string[]) {
  for (const report of reports) {
    const text = inspect(report, { depth: 10 });
    for (const token of tokens) assert.ok(!text.includes(token), 'an onError report quotes a token');
  }
}

describe('deadlines', () => {
  test('RFC 6750 §3.1: an AS that accepts connections and never answers gets 503 temporarily_unavailable with Retry-After once the deadline passes', async () => {
    proxy.fault = () => 'hang';
    const { guard, call, reports } = makeGuard();
    try {
      const token = await as.mint();
      const res = await call(token);
      assert.equal(res.status, 503);
      assert.equal((await res.json()).error, 'temporarily_unavailable');
      assert.ok(Number(res.headers.get('retry-after')) >= 1);
      const deadline = reports.map((r) => (r as Error).cause).find((c) => c !== undefined);
      assert.ok(inspect(deadline).includes('did not answer within 200 ms'));
      assertNoTokenIn(reports, [token]);
    } finally {
      guard.close();
    }
  });

  test('RFC 7662 §2.1: introspection that never answers fails closed with 503, and onError never sees the token', async () => {
    proxy.fault = (path) => (path === '/oauth/introspect' ? 'hang' : undefined);
    const { guard, call, reports } = makeGuard({ introspection: as.introspectionClient });
    try {
      const exp = Math.floor(clock / 1000) + 300;
      const opaque = as.opaque({ sub: 'bob', client_id: 'c', scope: '', aud: RESOURCE, exp });
      const res = await call(opaque);
      assert.equal(res.status, 503);
      assert.equal((await res.json()).error, 'temporarily_unavailable');
      assert.ok(reports.some((r) => (r as Error).cause instanceof DeadlineExceededError));
      assertNoTokenIn(reports, [opaque, as.introspectionClient.clientSecret]);
    } finally {
      guard.close();
    }
  });

  test('close() aborts a request to the AS in flight instead of leaving it open', async () => {
    proxy.fault = () => 'hang';
    const { guard, call } = makeGuard({ timeoutMs: 60_000 });
    const pending = call(await as.mint());
    await new Promise((resolve) => setTimeout(resolve, 20));
    guard.close();
    assert.equal((await pending).status, 503);
  });

  test('a feed long poll that never answers is abandoned after its wait plus the deadline, and retried', async () => {
    const { guard, reports } = makeGuard({
      revocationFeed: { waitSeconds: 0.1, retryDelaysMs: [10] },
      timeoutMs: 100,
    });
    try {
      await guard.ready();
      proxy.fault = (path) => (path === '/oauth/revocations' ? 'hang' : undefined);
      await eventually(async () => reports.some((r) => r instanceof DeadlineExceededError));
      const timedOut = reports.find((r) => r instanceof DeadlineExceededError) as DeadlineExceededError;
      assert.equal(timedOut.code, 'ERR_DEADLINE_EXCEEDED');
      assert.equal(timedOut.timeoutMs, 200);
      assert.equal(timedOut.url, `${as.issuer}/oauth/revocations`);
    } finally {
      guard.close();
    }
  });
});

describe('revocation feed fails closed', () => {
  test('RFC 6750 §3.1: until the feed has its first full list, a token gets 503 temporarily_unavailable with Retry-After; ready() waits for that list', async () => {
    proxy.fault = (path) => (path === '/oauth/revocations' ? 'down' : undefined);
    as.revokeGrant('grant-revoked-while-guard-down');
    const revoked = await as.mint({ gid: 'grant-revoked-while-guard-down' });
    const live = await as.mint();
    const { guard, call, reports } = makeGuard({ revocationFeed: { retryDelaysMs: [10] } });
    try {
      const res = await call(revoked);
      assert.equal(res.status, 503);
      assert.equal(res.headers.get('content-type')?.startsWith('application/json'), true);
      assert.equal((await res.json()).error, 'temporarily_unavailable');
      assert.ok(Number(res.headers.get('retry-after')) >= 1);
      assert.equal((await call(live)).status, 503);
      // Without a token the usual challenge: the guard is not down for discovery.
      assert.equal((await call()).status, 401);
      // ready() does not pretend: it waits, and a signal bounds the wait.
      const giveUp = new AbortController();
      const bounded = guard.ready({ signal: giveUp.signal });
      giveUp.abort(new Error('gave up waiting'));
      await assert.rejects(bounded, /gave up waiting/);

      proxy.fault = () => undefined;
      await guard.ready();
      assert.equal((await call(revoked)).status, 401);
      assert.equal((await call(live)).status, 200);
      assertNoTokenIn(reports, [revoked, live]);
    } finally {
      guard.close();
    }
  });

  test('a feed that has not answered for longer than maxStalenessSeconds is stale: tokens get 503 until it answers again', async () => {
    const { guard, call } = makeGuard({
      revocationFeed: { maxStalenessSeconds: 60, waitSeconds: 1, retryDelaysMs: [10] },
    });
    try {
      await guard.ready();
      const token = await as.mint();
      assert.equal((await call(token)).status, 200);
      // The AS becomes unreachable; the open long poll dies with it.
      proxy.fault = (path) => (path === '/oauth/revocations' ? 'down' : undefined);
      proxy.cut();
      clock += 30_000;
      assert.equal((await call(token)).status, 200, 'within maxStalenessSeconds the list is trusted');
      clock += 31_000;
      const stale = await call(token);
      assert.equal(stale.status, 503);
      assert.match((await stale.json()).error_description, /out of date/);
      proxy.fault = () => undefined;
      await eventually(async () => (await call(token)).status === 200);
    } finally {
      guard.close();
    }
  });

  test('a guard without a feed is unaffected by the feed rules', async () => {
    proxy.fault = (path) => (path === '/oauth/revocations' ? 'down' : undefined);
    const { guard, call } = makeGuard();
    assert.equal((await call(await as.mint())).status, 200);
    await guard.ready();
  });
});

describe('keys', () => {
  test('RFC 7517 §5: a failed JWKS refresh after maxAge keeps the last good keys; only an unknown kid then fails, with 503, until a later refresh succeeds', async () => {
    const { guard, call, reports } = makeGuard({ keys: { maxAgeMs: 60_000, cooldownMs: 1000 } });
    try {
      assert.equal((await call(await as.mint())).status, 200);
      proxy.fault = (path) => (path === '/.well-known/jwks.json' ? 'down' : undefined);
      clock += 61_000;
      const fetched = as.counts.jwks;
      const known = await as.mint();
      assert.equal((await call(known)).status, 200, 'a valid token is served with the last good keys');
      assert.ok(reports.length >= 1, 'the failed refresh is reported');
      // Retried only after the cooldown (backoff), not on every request.
      assert.equal((await call(await as.mint())).status, 200);

      await as.rotateKey();
      const rotated = await as.mint();
      const unknown = await call(rotated);
      assert.equal(unknown.status, 503, 'an unknown kid after a failed reload is not declared invalid');
      assert.equal((await unknown.json()).error, 'temporarily_unavailable');

      proxy.fault = () => undefined;
      clock += 5_000;
      assert.equal((await call(rotated)).status, 200);
      assert.equal(as.counts.jwks, fetched + 1);
      assertNoTokenIn(reports, [known, rotated]);
    } finally {
      guard.close();
    }
  });
});

describe('keys that cannot be refreshed for too long', () => {
  test('RFC 7517 §5: last good keys older than keys.maxStaleMs are trusted no longer (503 until a refresh succeeds)', async () => {
    const { guard, call } = makeGuard({
      keys: { maxAgeMs: 60_000, cooldownMs: 1000, maxStaleMs: 3_600_000 },
      tokenCacheSize: 0,
    });
    try {
      assert.equal((await call(await as.mint())).status, 200);
      proxy.fault = (path) => (path === '/.well-known/jwks.json' ? 'down' : undefined);
      clock += 120_000;
      assert.equal((await call(await as.mint())).status, 200, 'within maxStaleMs: the last good keys');
      clock += 3_600_000;
      const refused = await call(await as.mint());
      assert.equal(refused.status, 503, 'past maxStaleMs: not trusted');
      assert.equal((await refused.json()).error, 'temporarily_unavailable');
      proxy.fault = () => undefined;
      clock += 600_000;
      assert.equal((await call(await as.mint())).status, 200, 'a successful refresh restores service');
    } finally {
      guard.close();
    }
  });
});

describe('onError', () => {
  test('RFC 6750 §5.3: onError never receives the bearer token, even when a handler error quotes it', async () => {
    const reports: unknown[] = [];
    const guard = createGuard({
      resource: RESOURCE,
      authorizationServers: [as.issuer],
      manifest: false,
      fetch: proxy.fetch,
      now,
      onError: (err) => reports.push(err),
    });
    const token = await as.mint();
    const handler = guard.wrap(async (request) => {
      throw new Error('upstream refused', {
        cause: new Error(`header was ${request.headers.get('authorization')}`),
      });
    });
    const res = await handler(
      new Request(RESOURCE, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: '{}' }),
    );
    assert.equal(res.status, 500);
    assert.equal(reports.length, 1);
    assertNoTokenIn(reports, [token]);
    guard.close();
  });
});

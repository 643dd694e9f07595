/**
 * Every request the client makes to a resource's metadata or an authorization server has a
 * deadline and follows the caller's AbortSignal: a stuck server produces a clear error naming
 * the URL and the deadline instead of a call that never returns.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, test } from 'node:test';
import { DeadlineExceededError } from '@gatehouse/core';
import { headlessInteraction, isClientError, MemoryTokenStore, OAuthClient } from '../src/index.ts';
import { type Fixture, startFixture } from './fixture-server.ts';

let fx: Fixture;
before(async () => {
  fx = await startFixture();
});
after(() => fx.close());
afterEach(() => {
  delete fx.options.stall;
  delete fx.options.expiresIn;
});

// Each test would hang without a deadline; the runner's timeout turns that into a failure.
const bounded = { timeout: 10_000 };

function client(options: { timeoutMs?: number; now?: () => number } = {}) {
  return new OAuthClient({
    resource: fx.resource,
    store: new MemoryTokenStore(),
    interaction: headlessInteraction(),
    // Long enough that the requests before the stalled one finish on a loaded machine.
    timeoutMs: options.timeoutMs ?? 1000,
    now: options.now ?? (() => 1_000_000),
  });
}

function assertDeadline(err: unknown, code: string, url: string, ms: number): true {
  assert.ok(isClientError(err), String(err));
  assert.equal(err.code, code);
  assert.ok(err.cause instanceof DeadlineExceededError);
  assert.equal(err.message, `${url} did not answer within ${ms} ms`);
  return true;
}

test(
  'RFC 9728 §3: protected-resource metadata that never arrives fails discovery with an error naming the URL and the deadline',
  bounded,
  async () => {
    fx.options.stall = '/.well-known/oauth-protected-resource/mcp';
    const c = client();
    await assert.rejects(c.discover(), (err) =>
      assertDeadline(err, 'discovery_failed', `${fx.base}/.well-known/oauth-protected-resource/mcp`, 1000),
    );
  },
);

test(
  'RFC 8414 §3: authorization-server metadata that never arrives fails discovery with an error naming the URL',
  bounded,
  async () => {
    fx.options.stall = '/.well-known/oauth-authorization-server';
    const c = client({ timeoutMs: 1500 });
    await assert.rejects(c.discover(), (err) =>
      assertDeadline(err, 'discovery_failed', `${fx.base}/.well-known/oauth-authorization-server`, 1500),
    );
  },
);

test(
  'RFC 7591 §3.1: a registration endpoint that never answers fails with registration_failed naming it',
  bounded,
  async () => {
    fx.options.stall = '/register';
    const c = client();
    await assert.rejects(c.fetch(fx.resource, { method: 'POST', body: '{}' }), (err) =>
      assertDeadline(err, 'registration_failed', `${fx.base}/register`, 1000),
    );
  },
);

test(
  'RFC 6749 §6: a token endpoint that never answers fails the refresh with token_request_failed; the tokens stay stored',
  bounded,
  async () => {
    let clock = 1_000_000;
    const c = client({ now: () => clock });
    assert.equal((await c.fetch(fx.resource, { method: 'POST', body: '{}' })).status, 200);
    fx.options.stall = '/token';
    clock += 2 * 3600_000;
    await assert.rejects(c.accessToken(), (err) =>
      assertDeadline(err, 'token_request_failed', `${fx.base}/token`, 1000),
    );
    assert.ok((await c.storedTokens())?.refresh_token, 'a timeout is not a dead grant');
  },
);

test(
  "the caller's AbortSignal abandons the OAuth work its request started, with the caller's reason",
  bounded,
  async () => {
    let clock = 1_000_000;
    const c = client({ timeoutMs: 60_000, now: () => clock });
    assert.equal((await c.fetch(fx.resource, { method: 'POST', body: '{}' })).status, 200);
    fx.options.stall = '/token';
    clock += 2 * 3600_000;
    const caller = new AbortController();
    const pending = c.fetch(fx.resource, { method: 'POST', body: '{}', signal: caller.signal });
    caller.abort(new Error('the user cancelled'));
    await assert.rejects(pending, /the user cancelled/);
  },
);

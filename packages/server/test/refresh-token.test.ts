import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { decodeJwt } from 'jose';
import { frozenClock, type Harness, startAuthorizationServer } from './harness.ts';

const clock = frozenClock();
let h: Harness;
before(async () => {
  h = await startAuthorizationServer({ now: clock.now, refreshRetryWindow: 30 });
});
after(() => h.close());

async function refresh(clientId: string, refreshToken: string, extra: Record<string, string> = {}) {
  const res = await h.post('/oauth/token', {
    grant_type: 'refresh_token',
    refresh_token: refreshToken,
    client_id: clientId,
    ...extra,
  });
  return { status: res.status, body: (await res.json()) as Record<string, string> };
}

describe('refresh tokens (RFC 6749 §6, OAuth 2.1 §4.3)', () => {
  test('refresh tokens are opaque, prefixed, checksummed, and stored only as a keyed hash', async () => {
    const client = await h.addClient();
    const user = await h.addUser('prefix-user');
    const tokens = await h.authorize(client, user);
    assert.match(tokens.refresh_token, /^gatehouse_rt_[A-Za-z0-9_-]{43}_[0-9a-z]{7}$/);
    assert.equal(await h.store.getRefreshToken(tokens.refresh_token), undefined, 'not stored in plain text');
    assert.ok(await h.store.getRefreshToken(h.as.context.secrets.hash(tokens.refresh_token)));
  });

  test('rotated on every use; a retry within the window returns the same successor', async () => {
    const client = await h.addClient();
    const user = await h.addUser('rotate-user');
    const first = await h.authorize(client, user);
    const a = await refresh(client.client_id, first.refresh_token);
    assert.equal(a.status, 200);
    assert.notEqual(a.body.refresh_token, first.refresh_token);
    clock.advance(10);
    const retry = await refresh(client.client_id, first.refresh_token);
    assert.equal(retry.status, 200);
    assert.deepEqual(retry.body, a.body, 'the same successor, not a new one and not an error');
  });

  test('50 parallel refreshes of one token end with exactly one live successor', async () => {
    const client = await h.addClient();
    const user = await h.addUser('parallel-user');
    const first = await h.authorize(client, user);
    const results = await Promise.all(
      Array.from({ length: 50 }, () => refresh(client.client_id, first.refresh_token)),
    );
    assert.ok(results.every((r) => r.status === 200));
    const successors = new Set(results.map((r) => r.body.refresh_token));
    assert.equal(successors.size, 1);
    const [successor] = successors;
    assert.equal((await refresh(client.client_id, successor as string)).status, 200, 'the successor works');
  });

  test('RFC 9700 §4.14.2: reuse after the window revokes the whole grant and is audited', async () => {
    const client = await h.addClient();
    const user = await h.addUser('reuse-user');
    const first = await h.authorize(client, user);
    const next = await refresh(client.client_id, first.refresh_token);
    clock.advance(31);
    const reuse = await refresh(client.client_id, first.refresh_token);
    assert.equal(reuse.status, 400);
    assert.equal(reuse.body.error, 'invalid_grant');
    const claims = decodeJwt(next.body.access_token as string) as { jti: string; gid: string };
    assert.ok(h.as.revocations.isRevoked(claims), 'the successor access token is revoked at once');
    assert.equal(
      (await refresh(client.client_id, next.body.refresh_token as string)).body.error,
      'invalid_grant',
    );
    await h.as.context.flushAudit();
    const events = await h.store.listAudit({ limit: 1000 });
    assert.ok(events.some((e) => e.type === 'refresh.reuse_detected' && e.grant_id === claims.gid));
  });

  test('the retry window closes as soon as the successor itself has been used', async () => {
    const client = await h.addClient();
    const user = await h.addUser('window-user');
    const first = await h.authorize(client, user);
    const second = await refresh(client.client_id, first.refresh_token);
    assert.equal((await refresh(client.client_id, second.body.refresh_token as string)).status, 200);
    const late = await refresh(client.client_id, first.refresh_token);
    assert.equal(late.body.error, 'invalid_grant', 'within the window, but the successor was used');
  });

  test('scope may narrow on refresh, never widen; resource must match; client binding checked', async () => {
    const client = await h.addClient();
    const other = await h.addClient();
    const user = await h.addUser('scope-user');
    const first = await h.authorize(client, user, { scope: 'tools:list tools:execute:filesystem' });
    const wider = await refresh(client.client_id, first.refresh_token, { scope: 'tools:list tools:execute' });
    assert.equal(wider.body.error, 'invalid_scope');
    const wrongResource = await refresh(client.client_id, first.refresh_token, {
      resource: 'https://elsewhere.example/mcp',
    });
    assert.equal(wrongResource.body.error, 'invalid_target');
    const stolen = await refresh(other.client_id, first.refresh_token);
    assert.equal(stolen.body.error, 'invalid_grant');
    const narrow = await refresh(client.client_id, first.refresh_token, { scope: 'tools:list' });
    assert.equal(narrow.status, 200);
    assert.equal(narrow.body.scope, 'tools:list');
    assert.equal((decodeJwt(narrow.body.access_token as string) as { scope: string }).scope, 'tools:list');
    const again = await refresh(client.client_id, narrow.body.refresh_token as string);
    assert.equal(
      again.body.scope,
      'tools:list tools:execute:filesystem',
      'the refresh token keeps its original scope',
    );
  });

  test('refresh tokens expire after 30 days, and after the idle limit unused', async () => {
    const client = await h.addClient();
    const user = await h.addUser('expiry-user');
    const first = await h.authorize(client, user);
    clock.advance(15 * 86400);
    assert.equal(
      (await refresh(client.client_id, first.refresh_token)).body.error,
      'invalid_grant',
      'idle 15 days > 14',
    );

    const fresh = await h.authorize(client, user);
    let token = fresh.refresh_token;
    for (let day = 0; day < 3; day++) {
      clock.advance(10 * 86400);
      const r = await refresh(client.client_id, token);
      if (day < 2) {
        assert.equal(r.status, 200, `day ${(day + 1) * 10}`);
        token = r.body.refresh_token as string;
      } else assert.equal(r.body.error, 'invalid_grant', 'past 30 days');
    }
  });

  test('malformed refresh tokens are invalid_grant without a store lookup', async () => {
    const client = await h.addClient();
    const r = await refresh(client.client_id, 'gatehouse_rt_not-a-real-token');
    assert.equal(r.status, 400);
    assert.equal(r.body.error, 'invalid_grant');
  });
});

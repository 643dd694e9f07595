import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { CLIENT_SECRET_PREFIX, createOpaqueToken } from '../src/tokens/opaque.ts';
import { basicAuth, frozenClock, type Harness, startAuthorizationServer } from './harness.ts';

const clock = frozenClock();
let h: Harness;
before(async () => {
  h = await startAuthorizationServer({ now: clock.now });
});
after(() => h.close());

const tokenRequest = (clientId: string, secret: string) =>
  h.post('/oauth/token', { grant_type: 'client_credentials' }, basicAuth(clientId, secret));

describe('client secret check (RFC 6749 §2.3.1) with the recently verified secret remembered', () => {
  test('after a good secret, a wrong one of the same length is still 401 invalid_client', async () => {
    const client = await h.addClient({ confidential: true, scope: 'tools:list' });
    const secret = client.secret as string;
    assert.equal((await tokenRequest(client.client_id, secret)).status, 200);
    assert.equal((await tokenRequest(client.client_id, secret)).status, 200);
    const wrong = `${secret.slice(0, -1)}${secret.endsWith('A') ? 'B' : 'A'}`;
    const res = await tokenRequest(client.client_id, wrong);
    assert.equal(res.status, 401);
    assert.equal(((await res.json()) as { error: string }).error, 'invalid_client');
    assert.equal((await tokenRequest(client.client_id, secret)).status, 200);
  });

  test('a rotated secret stops working once the client record is re-read, as without the cache', async () => {
    const client = await h.addClient({ confidential: true, scope: 'tools:list' });
    const old = client.secret as string;
    assert.equal((await tokenRequest(client.client_id, old)).status, 200);
    const next = createOpaqueToken(CLIENT_SECRET_PREFIX);
    const { secret: _omit, ...record } = client;
    await h.store.upsertClient({ ...record, secret_hash: h.as.context.secrets.hash(next) });
    clock.advance(6); // past the client registry's 5 s cache
    assert.equal((await tokenRequest(client.client_id, old)).status, 401);
    assert.equal((await tokenRequest(client.client_id, next)).status, 200);
    assert.equal((await tokenRequest(client.client_id, old)).status, 401);
  });
});

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { basicAuth, frozenClock, type Harness, startAuthorizationServer } from './harness.ts';

/**
 * Who may introspect (RFC 7662 §2.1, §4: protected resources only) and what "active" means for a
 * refresh token (exactly what the token endpoint would accept).
 */
const IDLE = 3600;
const clock = frozenClock();
let h: Harness;
before(async () => {
  h = await startAuthorizationServer({ now: clock.now, refreshTokenIdleTtl: IDLE });
});
after(() => h.close());

const introspectAs = (client: { client_id: string; secret?: string | undefined }, token: string) =>
  h.post('/oauth/introspect', { token }, basicAuth(client.client_id, client.secret as string));

describe('introspection (RFC 7662)', () => {
  test('RFC 7662 §2.1, §4: a confidential client that is not a registered protected resource gets 401 invalid_client', async () => {
    const user = await h.addUser('probed-user');
    const app = await h.addClient();
    const tokens = await h.authorize(app, user);
    const other = await h.addClient({ confidential: true });
    const res = await introspectAs(other, tokens.refresh_token);
    assert.equal(res.status, 401);
    assert.equal(((await res.json()) as { error: string }).error, 'invalid_client');
    const resourceServer = await h.addClient({
      confidential: true,
      redirect_uris: [],
      resource_server: true,
    });
    const allowed = await introspectAs(resourceServer, tokens.refresh_token);
    assert.equal(allowed.status, 200);
    assert.equal(((await allowed.json()) as { active: boolean }).active, true);
  });

  test('RFC 7662 §4: a self-registered (RFC 7591) client cannot make itself a protected resource', async () => {
    const res = await fetch(`${h.issuer}/oauth/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        client_name: 'Prober',
        redirect_uris: ['http://127.0.0.1/callback'],
        token_endpoint_auth_method: 'client_secret_basic',
        resource_server: true,
      }),
    });
    assert.equal(res.status, 201);
    const registered = (await res.json()) as { client_id: string; client_secret: string };
    assert.equal((await h.store.getClient(registered.client_id))?.resource_server, undefined);
    const probe = await introspectAs(
      { client_id: registered.client_id, secret: registered.client_secret },
      'gatehouse_rt_x',
    );
    assert.equal(probe.status, 401);
  });

  test('RFC 7662 §2.2: a refresh token unused for longer than the idle lifetime is inactive, as the token endpoint refuses it', async () => {
    const user = await h.addUser('idle-user');
    const app = await h.addClient();
    const tokens = await h.authorize(app, user);
    const resourceServer = await h.addClient({
      confidential: true,
      redirect_uris: [],
      resource_server: true,
    });
    clock.advance(IDLE);
    const info = (await (await introspectAs(resourceServer, tokens.refresh_token)).json()) as {
      active: boolean;
    };
    assert.equal(info.active, false);
    const refresh = await h.post('/oauth/token', {
      grant_type: 'refresh_token',
      refresh_token: tokens.refresh_token,
      client_id: app.client_id,
    });
    assert.equal(refresh.status, 400, 'the token endpoint agrees');
  });
});

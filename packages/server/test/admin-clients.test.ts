import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { adminBrowser } from './admin-browser.ts';
import { basicAuth, type Harness, startAuthorizationServer } from './harness.ts';

/**
 * The admin console's clients page (issue #13) over real HTTP, and what blocking does: a blocked
 * DCR client, or any client on a blocked CIMD host, is refused at its next request by the token
 * endpoint (invalid_client), the authorization endpoint (an error page) and introspection.
 */
const CIMD_ID = 'https://apps.example/client.json';
let h: Harness;
let root: Awaited<ReturnType<Harness['addUser']>>;
let admin: ReturnType<typeof adminBrowser>;
/** Host names the CIMD fetcher tried to resolve: a blocked host is never contacted. */
const resolved: string[] = [];

before(async () => {
  h = await startAuthorizationServer({
    clientIdMetadataDocuments: {
      resolve: async (hostname) => {
        resolved.push(hostname);
        throw new Error('no network in this test');
      },
    },
  });
  root = await h.addUser('root');
  await h.store.setUserAdmin(root.id, true);
  admin = adminBrowser(h);
  await admin.signIn(root, '/admin/clients');
});
after(async () => {
  await h.close();
});

const authorizeUrl = (clientId: string) =>
  `/oauth/authorize?${new URLSearchParams({
    response_type: 'code',
    client_id: clientId,
    redirect_uri: 'http://127.0.0.1/callback',
    code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGjSstw-cM',
    code_challenge_method: 'S256',
  })}`;

async function audited(type: string) {
  await h.as.context.flushAudit();
  return h.store.queryAudit({ type, actor: root.id });
}

describe('admin clients page', () => {
  test('lists how each client registered, the verified CIMD host and when it was last used', async () => {
    const dcr = await h.addClient({ kind: 'dcr', client_name: 'Self Registered' });
    await h.store.createClient({
      client_id: CIMD_ID,
      kind: 'cimd',
      client_name: 'Metadata App',
      redirect_uris: ['https://apps.example/cb'],
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code'],
      created_at: 1,
    });
    await h.authorize(dcr, await h.addUser('ann'));
    const page = await admin.request('/admin/clients');
    assert.equal(page.status, 200);
    assert.match(page.text, /Dynamic registration \(DCR\)/);
    assert.match(
      page.text,
      /Metadata document \(CIMD\)<br><span class="verified">verified host: apps\.example/,
    );
    assert.match(page.text, /never/);
    assert.match(page.text, /\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} UTC/);
  });

  test('RFC 6749 §5.2: a blocked DCR client gets invalid_client at its next token request, an error page at authorize, and its tokens are inactive at introspection', async () => {
    const client = await h.addClient({ kind: 'dcr' });
    const resourceServer = await h.addClient({ confidential: true, resource_server: true });
    const tokens = await h.authorize(client, await h.addUser('bea'));
    const confirm = await admin.request(`/admin/clients/block?client=${client.client_id}`);
    assert.match(confirm.text, /Block /);
    const blocked = await admin.submit(
      `/admin/clients/block?client=${client.client_id}`,
      '/admin/clients/block',
      {
        client: client.client_id,
        confirm: 'yes',
      },
    );
    assert.equal(blocked.location, '/admin/clients?done=client_blocked');
    assert.equal((await audited('admin.client_blocked'))[0]?.client_id, client.client_id);

    const refresh = await h.post('/oauth/token', {
      grant_type: 'refresh_token',
      refresh_token: tokens.refresh_token,
      client_id: client.client_id,
    });
    assert.equal(refresh.status, 401);
    assert.equal(((await refresh.json()) as { error: string }).error, 'invalid_client');
    const page = await fetch(`${h.issuer}${authorizeUrl(client.client_id)}`, { redirect: 'manual' });
    assert.equal(page.status, 400);
    assert.match(await page.text(), /Application blocked/);
    const introspected = await h.post(
      '/oauth/introspect',
      { token: tokens.access_token },
      basicAuth(resourceServer.client_id, resourceServer.secret as string),
    );
    assert.deepEqual(await introspected.json(), { active: false });

    const unblocked = await admin.submit('/admin/clients', '/admin/clients/unblock', {
      client: client.client_id,
    });
    assert.equal(unblocked.status, 303);
    const again = await h.post('/oauth/token', {
      grant_type: 'refresh_token',
      refresh_token: tokens.refresh_token,
      client_id: client.client_id,
    });
    assert.equal(again.status, 200);
  });

  test('a blocked CIMD host: its client ids are refused at authorize and the token endpoint, and never fetched', async () => {
    const blocked = await admin.submit(
      '/admin/clients/block-host?host=apps.example',
      '/admin/clients/block-host',
      {
        host: 'apps.example',
        confirm: 'yes',
      },
    );
    assert.equal(blocked.location, '/admin/clients?done=host_blocked');
    assert.equal((await audited('admin.host_blocked'))[0]?.detail?.host, 'apps.example');
    const page = await fetch(`${h.issuer}${authorizeUrl(CIMD_ID)}`, { redirect: 'manual' });
    assert.match(await page.text(), /Application blocked/);
    const token = await h.post('/oauth/token', {
      grant_type: 'authorization_code',
      code: 'x',
      code_verifier: 'y'.repeat(43),
      client_id: 'https://apps.example/other.json',
    });
    assert.equal(token.status, 401);
    assert.deepEqual(resolved, []);
    const list = await admin.request('/admin/clients');
    assert.match(list.text, /blocked \(host\)/);

    await admin.submit('/admin/clients', '/admin/clients/unblock-host', { host: 'apps.example' });
    assert.equal(await h.store.isHostBlocked('apps.example'), false);
    await fetch(`${h.issuer}${authorizeUrl(CIMD_ID)}`, { redirect: 'manual' });
    assert.deepEqual(resolved, ['apps.example'], 'unblocked, the document is fetched again');
  });

  test('removing a client revokes every grant it holds, audited with the admin', async () => {
    const client = await h.addClient();
    await h.authorize(client, await h.addUser('cid'));
    const [grant] = await h.store.listGrants({ client_id: client.client_id });
    const removed = await admin.submit(
      `/admin/clients/remove?client=${client.client_id}`,
      '/admin/clients/remove',
      {
        client: client.client_id,
        confirm: 'yes',
      },
    );
    assert.equal(removed.location, '/admin/clients?done=client_removed');
    assert.equal(await h.store.getClient(client.client_id), undefined);
    assert.notEqual((await h.store.getGrant(grant?.id as string))?.revoked_at, undefined);
    assert.ok((await audited('admin.client_removed')).some((e) => e.client_id === client.client_id));
  });

  test('a non-admin gets 403 on the clients page and its actions; a malformed host is 404', async () => {
    const client = await h.addClient({ kind: 'dcr' });
    const user = adminBrowser(h);
    await user.signIn(await h.addUser('dan'), '/admin/clients');
    assert.equal((await user.request('/admin/clients')).status, 403);
    const posted = await user.request('/admin/clients/block', {
      form: { client: client.client_id, confirm: 'yes' },
    });
    assert.equal(posted.status, 403);
    assert.equal((await h.store.getClient(client.client_id))?.blocked, undefined);
    assert.equal((await admin.request('/admin/clients/block-host?host=a%2Fb')).status, 404);
  });
});

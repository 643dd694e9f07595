import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { createAuthorizationServer, SqliteStore, toNodeListener } from '@gatehouse/server';
import { discoverAuthorizationServer, MemoryTokenStore, resolveClient } from '../src/index.ts';

/**
 * End-to-end against Gatehouse's own authorization server, in process on 127.0.0.1 with a real
 * SQLite store in a temp folder.
 */
let server: Server;
let issuer: string;
let dir: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gatehouse-e2e-'));
  server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const as = await createAuthorizationServer({
    issuer,
    store: new SqliteStore(join(dir, 'gatehouse.db')),
    masterSecret: randomBytes(32).toString('base64url'),
  });
  server.on('request', toNodeListener(as.fetch, issuer));
});
after(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  await rm(dir, { recursive: true, force: true });
});

test('RFC 8414: the client accepts Gatehouse AS metadata (issuer equal, S256 listed, iss advertised)', async () => {
  const as = await discoverAuthorizationServer(issuer, { fetch });
  assert.equal(as.issuer, issuer);
  assert.ok(as.code_challenge_methods_supported?.includes('S256'));
  assert.equal(as.authorization_response_iss_parameter_supported, true);
});

test('RFC 7591: the client registers with the Gatehouse AS as a native public client', async () => {
  const as = await discoverAuthorizationServer(issuer, { fetch });
  const store = new MemoryTokenStore();
  const client = await resolveClient(as, {
    store,
    fetch,
    now: Date.now,
    redirectUri: 'http://127.0.0.1:40000/callback',
    config: { clientMetadata: { client_name: 'e2e' } },
  });
  assert.equal(client.source, 'dcr');
  assert.equal((await store.getClient(issuer))?.client_id, client.client_id);
});

// Refresh, revocation and the store on disk against `gatehouse serve`: e2e/client/refresh.test.ts.

import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createSecrets } from '../secrets.ts';
import { SqliteStore } from '../store/sqlite.ts';
import { deactivateUser } from '../users/deactivate.ts';
import { startUpstreamAs } from './upstream-as-kit.ts';
import type { UpstreamConnectionConfig } from './upstream-client.ts';
import { Vault } from './vault.ts';

/**
 * How the vault copes with upstreams that misbehave the way real ones do, against a loopback
 * stand-in for GitHub's OAuth endpoints (which answer a refused refresh with HTTP 200 and an
 * error body) and a real SQLite file.
 */
type Answer = (body: URLSearchParams, res: ServerResponse) => void | Promise<void>;

let server: ReturnType<typeof createServer>;
let origin: string;
let store: SqliteStore;
const now = 1_800_000_000;
/** What the token endpoint answers next; every request to each endpoint is counted. */
let tokenAnswer: Answer;
const requests = { token: 0, revocation: [] as string[] };
const json = (res: ServerResponse, status: number, body: unknown): void => {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
};

async function readBody(req: IncomingMessage): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

/** A vault on the test store with one connection (default: `github`, at the GitHub stand-in). */
const vault = (
  connection: [string, UpstreamConnectionConfig] = [
    'github',
    {
      authorizationEndpoint: `${origin}/login/oauth/authorize`,
      tokenEndpoint: `${origin}/login/oauth/access_token`,
      revocationEndpoint: `${origin}/revoke`,
      clientId: 'gatehouse',
      clientSecret: 'client-secret',
      scopes: ['repo'],
    },
  ],
) =>
  new Vault({
    store,
    secrets: createSecrets('vault-failures-master-secret-0123456789abcdef'),
    issuer: 'http://127.0.0.1:1',
    now: () => now,
    connections: new Map([connection]),
  });

let users = 0;
async function userWith(tokens: { access_token: string; refresh_token?: string; expires_in?: number }) {
  const id = `user-${++users}`;
  await store.createUser({ id, username: id, password_hash: 'x', disabled: false, created_at: 1 });
  await vault().save(id, 'github', tokens);
  return id;
}

before(async () => {
  server = createServer(async (req, res) => {
    const body = await readBody(req);
    if (req.url === '/revoke') {
      requests.revocation.push(body.get('token') ?? '');
      res.writeHead(200).end();
      return;
    }
    requests.token++;
    await tokenAnswer(body, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  store = new SqliteStore(join(mkdtempSync(join(tmpdir(), 'gatehouse-vault-failures-')), 'gatehouse.db'));
});
after(async () => {
  await store.close();
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

describe('token vault: upstream failures', () => {
  test('issue #12: a refresh refused GitHub-style (HTTP 200, error bad_refresh_token) breaks the connection at once; later calls name the reconnect page without asking the upstream again', async () => {
    tokenAnswer = (_body, res) =>
      json(res, 200, {
        error: 'bad_refresh_token',
        error_description: 'The refresh token is incorrect or expired.',
      });
    const id = await userWith({ access_token: 'gh-old', refresh_token: 'ghr-old', expires_in: 10 });
    const before = requests.token;
    assert.deepEqual(await vault().accessToken(id, 'github'), {
      broken: 'http://127.0.0.1:1/connect/github',
    });
    assert.equal(requests.token - before, 1);
    assert.equal((await store.getConnection(id, 'github'))?.state, 'broken');
    assert.deepEqual(await vault().accessToken(id, 'github'), {
      broken: 'http://127.0.0.1:1/connect/github',
    });
    assert.equal(requests.token - before, 1, 'a broken connection is not refreshed again');
  });

  test('issue #12: a provider that is down (HTTP 503) is not a reason to break the connection: the call fails, the next one tries again', async () => {
    tokenAnswer = (_body, res) => json(res, 503, { error: 'temporarily_unavailable' });
    const id = await userWith({ access_token: 'gh-a', refresh_token: 'ghr-a', expires_in: 10 });
    await assert.rejects(
      vault().accessToken(id, 'github'),
      /refreshing the github connection failed; try again/,
    );
    assert.equal((await store.getConnection(id, 'github'))?.state, 'active');
    tokenAnswer = (_body, res) =>
      json(res, 200, {
        token_type: 'bearer',
        access_token: 'gh-b',
        refresh_token: 'ghr-b',
        expires_in: 3600,
      });
    assert.deepEqual(await vault().accessToken(id, 'github'), { token: 'gh-b' });
  });

  test('issue #12: a token the upstream refused (401) is refreshed at once when it can be, once however many callers report it, and only while it is still the current one', async () => {
    tokenAnswer = (body, res) => {
      assert.equal(body.get('refresh_token'), 'ghr-1');
      json(res, 200, {
        token_type: 'bearer',
        access_token: 'gh-2',
        refresh_token: 'ghr-2',
        expires_in: 28800,
      });
    };
    const id = await userWith({ access_token: 'gh-1', refresh_token: 'ghr-1', expires_in: 28800 });
    const before = requests.token;
    const v = vault();
    const answers = await Promise.all(
      Array.from({ length: 5 }, () => v.rejected(id, 'github', (t) => t === 'gh-1')),
    );
    for (const answer of answers) assert.deepEqual(answer, { token: 'gh-2' });
    assert.equal(requests.token - before, 1);
    // Reported late, about the old token: the current one stands.
    assert.deepEqual(await v.rejected(id, 'github', (t) => t === 'gh-1'), { token: 'gh-2' });
    assert.equal(requests.token - before, 1);
    // The new token refused too, within the minute: no second refresh (an upstream refusing every
    // token must not make every call refresh); the caller is told to reconnect.
    assert.deepEqual(await v.rejected(id, 'github', (t) => t === 'gh-2'), {
      broken: 'http://127.0.0.1:1/connect/github',
    });
    assert.equal(requests.token - before, 1);
    assert.equal((await store.getConnection(id, 'github'))?.state, 'active');
  });

  test('issue #12: a refused token with no refresh token (a GitHub OAuth app token) tells the caller to reconnect, without breaking the stored connection (one refusal may be the upstream’s own fault)', async () => {
    const id = await userWith({ access_token: 'gho-forever' });
    const before = requests.token;
    assert.deepEqual(await vault().rejected(id, 'github', (t) => t === 'gho-forever'), {
      broken: 'http://127.0.0.1:1/connect/github',
    });
    assert.equal(requests.token, before);
    assert.equal((await store.getConnection(id, 'github'))?.state, 'active');
  });

  test('issue #12: a connection whose tokens no longer decrypt (sealed under another master secret) can still be removed', async () => {
    const id = await userWith({ access_token: 'gh-sealed', refresh_token: 'ghr-sealed', expires_in: 3600 });
    const row = await store.getConnection(id, 'github');
    assert.ok(row);
    await store.saveConnection({ ...row, access_token_encrypted: 'sealed-under-another-key' });
    assert.equal(await vault().remove(id, 'github'), true);
    assert.equal(await store.getConnection(id, 'github'), undefined);
  });

  test('RFC 7009, issue #12: tokens a refresh obtained for a connection removed meanwhile are revoked upstream and never handed out', async () => {
    let release: () => void = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    let arrived: () => void = () => {};
    const refreshing = new Promise<void>((resolve) => {
      arrived = resolve;
    });
    tokenAnswer = async (_body, res) => {
      arrived();
      await held;
      json(res, 200, {
        token_type: 'bearer',
        access_token: 'gh-orphan',
        refresh_token: 'ghr-orphan',
        expires_in: 3600,
      });
    };
    const id = await userWith({ access_token: 'gh-x', refresh_token: 'ghr-x', expires_in: 10 });
    const v = vault();
    const answer = v.accessToken(id, 'github');
    await refreshing;
    assert.equal(await v.remove(id, 'github'), true);
    requests.revocation.length = 0;
    release();
    assert.deepEqual(await answer, { missing: 'http://127.0.0.1:1/connect/github' });
    assert.deepEqual(requests.revocation.sort(), ['gh-orphan', 'ghr-orphan']);
    assert.equal(await store.getConnection(id, 'github'), undefined);
  });

  test('issue #12: a refresh that fails unexpectedly (a ciphertext that no longer decrypts) releases its lease: other instances are not held for its 30 s', async () => {
    const id = await userWith({ access_token: 'gh-y', refresh_token: 'ghr-y', expires_in: 10 });
    const row = await store.getConnection(id, 'github');
    assert.ok(row);
    await store.saveConnection({ ...row, refresh_token_encrypted: 'not-a-ciphertext' });
    await assert.rejects(vault().accessToken(id, 'github'));
    assert.equal(await store.takeConnectionLease(id, 'github', 'another-instance', now, now + 30), true);
  });

  test('RFC 7009, issue #12: removing a user removes their connections through the vault, which revokes the upstream tokens', async () => {
    const id = await userWith({ access_token: 'gh-gone', refresh_token: 'ghr-gone', expires_in: 3600 });
    const user = await store.getUser(id);
    assert.ok(user);
    requests.revocation.length = 0;
    const v = vault();
    await deactivateUser(
      store,
      user,
      'removed',
      async () => {},
      (provider) => v.remove(id, provider),
    );
    assert.deepEqual(requests.revocation.sort(), ['gh-gone', 'ghr-gone']);
    assert.equal(await store.getConnection(id, 'github'), undefined);
  });

  test('RFC 6749 §2.3.1, issue #12: a connection authenticates at the token endpoint as configured (clientAuthentication): HTTP Basic, or the form body by default', async () => {
    const upstreamAs = await startUpstreamAs({ tokenEndpointAuthMethod: 'client_secret_basic' });
    try {
      const vaultWith = (clientAuthentication?: 'client_secret_basic') =>
        vault([
          'jira',
          {
            issuer: upstreamAs.issuer,
            authorizationEndpoint: `${upstreamAs.issuer}/auth`,
            tokenEndpoint: `${upstreamAs.issuer}/token`,
            clientId: upstreamAs.clientId,
            clientSecret: upstreamAs.clientSecret,
            ...(clientAuthentication ? { clientAuthentication } : {}),
            scopes: [],
          },
        ]);
      for (const method of ['client_secret_basic', undefined] as const) {
        const id = `user-${++users}`;
        await store.createUser({ id, username: id, password_hash: 'x', disabled: false, created_at: 1 });
        await vaultWith(method).save(id, 'jira', {
          access_token: 'jira-old',
          refresh_token: await upstreamAs.seedRefreshToken(id),
          expires_in: -1,
        });
        const answer = await vaultWith(method).accessToken(id, 'jira');
        assert.ok('token' in answer && answer.token !== 'jira-old', JSON.stringify(answer));
        assert.equal(upstreamAs.tokenAuthentication.at(-1), method ?? 'client_secret_post');
      }
    } finally {
      await upstreamAs.close();
    }
  });
});

import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, before, test } from 'node:test';
import {
  Agent,
  authorizationCodeFlow,
  type CliResult,
  claimsOf,
  cli,
  serve,
  start,
  tokenRequest,
  waitFor,
} from './harness.ts';

/**
 * The token lifecycle across processes: `gatehouse serve` runs on a data folder while the admin
 * commands (separate processes, same SQLite file) list and cut grants, read the audit log and
 * rotate keys.
 */
const PASSWORD = 'correct horse battery';
const REDIRECT_URI = 'http://127.0.0.1:9/callback';
const SCOPE = 'tools:execute resources:read offline_access';
let dir: string;
let issuer: string;
let stopServer: () => Promise<number>;
let client: { client_id: string; client_secret: string };

const ok = (result: CliResult) => {
  assert.equal(result.code, 0, `gatehouse failed: ${result.stderr}`);
  return result.stdout;
};

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gatehouse-lifecycle-'));
  const data = ['--data', dir];
  await Promise.all(
    ['alice', 'bob', 'carol'].map(async (name) =>
      ok(await cli(['users', 'add', name, '--password-stdin', ...data], `${PASSWORD}\n`)),
    ),
  );
  client = JSON.parse(
    ok(
      await cli([
        'clients',
        'add',
        '--name',
        'Notes',
        '--redirect-uri',
        REDIRECT_URI,
        '--confidential',
        // It introspects too (as a protected resource would), to watch revocations arrive.
        '--resource-server',
        '--json',
        ...data,
      ]),
    ),
  );
  ({ issuer, stop: stopServer } = await serve(dir));
});

after(async () => {
  await stopServer?.();
  await rm(dir, { recursive: true, force: true });
});

const flow = (username: string, agent?: Agent) =>
  authorizationCodeFlow({
    issuer,
    clientId: client.client_id,
    clientSecret: client.client_secret,
    redirectUri: REDIRECT_URI,
    username,
    password: PASSWORD,
    scope: SCOPE,
    agent,
  });

/** Whether the running server's revocation feed lists the grant. */
async function feedRevokes(gid: string): Promise<boolean> {
  const feed = (await (await fetch(`${issuer}/oauth/revocations?after=0`)).json()) as {
    revoked: { gid?: string }[];
  };
  return feed.revoked.some((entry) => entry.gid === gid);
}

/** RFC 7662 introspection of an access token; the server answers from its in-memory revocation list. */
async function introspectionActive(accessToken: string): Promise<boolean> {
  const basic = Buffer.from(`${client.client_id}:${client.client_secret}`).toString('base64');
  const response = await fetch(`${issuer}/oauth/introspect`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${basic}` },
    body: new URLSearchParams({ token: accessToken }),
  });
  return ((await response.json()) as { active: boolean }).active;
}

/**
 * Milliseconds until the running server treats the access token as revoked (polling every 20 ms):
 * introspection reads the in-memory list that the server syncs from the store every 500 ms, so
 * this measures how fast another process's revocation reaches it. The feed must list it too.
 */
async function msUntilRevoked(accessToken: string): Promise<number> {
  const started = Date.now();
  await waitFor(async () => ((await introspectionActive(accessToken)) ? undefined : true), 5000);
  const elapsed = Date.now() - started;
  assert.equal(await feedRevokes(claimsOf(accessToken).gid), true, 'the revocation feed lists the grant');
  return elapsed;
}

test('gatehouse grants list shows the grant a sign-in produced; grants revoke reaches the running server within a second', async () => {
  const { tokens } = await flow('alice');
  const { gid } = claimsOf(tokens.access_token);
  const listed = JSON.parse(ok(await cli(['grants', 'list', '--user', 'alice', '--json', '--data', dir])));
  assert.deepEqual(
    listed.map((g: { id: string }) => g.id),
    [gid],
  );
  assert.equal(listed[0].client_id, client.client_id);
  assert.equal(listed[0].username, 'alice');
  const byClient = JSON.parse(
    ok(await cli(['grants', 'list', '--client', client.client_id, '--json', '--data', dir])),
  );
  assert.ok(byClient.some((g: { id: string }) => g.id === gid));
  assert.equal(await feedRevokes(gid), false);
  assert.equal(await introspectionActive(tokens.access_token), true);

  ok(await cli(['grants', 'revoke', gid, '--data', dir]));
  const elapsed = await msUntilRevoked(tokens.access_token);
  assert.ok(elapsed < 1000, `the server learnt of the revocation after ${elapsed} ms`);
  assert.deepEqual(
    JSON.parse(ok(await cli(['grants', 'list', '--user', 'alice', '--json', '--data', dir]))),
    [],
  );
  const all = JSON.parse(
    ok(await cli(['grants', 'list', '--user', 'alice', '--all', '--json', '--data', dir])),
  );
  assert.ok(all.find((g: { id: string }) => g.id === gid).revoked_at);
  // The revoked grant's refresh token no longer works.
  await assert.rejects(
    tokenRequest(
      { issuer, clientId: client.client_id, clientSecret: client.client_secret },
      { grant_type: 'refresh_token', refresh_token: tokens.refresh_token as string },
    ),
    /invalid_grant/,
  );
  const revoked = (await auditEvents()).find((e) => e.type === 'grant.revoked' && e.grant_id === gid);
  assert.match(String(revoked?.actor), /^cli/, 'the admin revocation is audited with its actor');
});

test("gatehouse users disable revokes the user's grants and ends their sessions", async () => {
  const agent = new Agent();
  const { tokens } = await flow('bob', agent);
  assert.equal((await agent.fetch(`${issuer}/account/apps`)).status, 200, 'bob is signed in');
  ok(await cli(['users', 'disable', 'bob', '--data', dir]));
  assert.ok((await msUntilRevoked(tokens.access_token)) < 1000);
  const response = await agent.fetch(`${issuer}/account/apps`);
  assert.equal(response.status, 303);
  assert.equal(response.headers.get('location'), '/login');
  assert.ok((await auditEvents()).some((e) => e.type === 'admin.user_disabled'));
});

test('gatehouse clients remove revokes every grant of the client', async () => {
  const other = JSON.parse(
    ok(
      await cli([
        'clients',
        'add',
        '--name',
        'Doomed',
        '--redirect-uri',
        REDIRECT_URI,
        '--confidential',
        '--json',
        '--data',
        dir,
      ]),
    ),
  );
  const { tokens } = await authorizationCodeFlow({
    issuer,
    clientId: other.client_id,
    clientSecret: other.client_secret,
    redirectUri: REDIRECT_URI,
    username: 'carol',
    password: PASSWORD,
    scope: SCOPE,
  });
  ok(await cli(['clients', 'remove', other.client_id, '--data', dir]));
  assert.ok((await msUntilRevoked(tokens.access_token)) < 1000);
  assert.ok(
    (await auditEvents()).some((e) => e.type === 'admin.client_removed' && e.client_id === other.client_id),
  );
});

test('audit log: after a full flow (sign-in, consent, code, refresh, retry, revocation) no token, code or secret is in any event', async () => {
  const agent = new Agent();
  const first = await flow('carol', agent);
  const refreshed = await tokenRequest(
    { issuer, clientId: client.client_id, clientSecret: client.client_secret },
    { grant_type: 'refresh_token', refresh_token: first.tokens.refresh_token as string },
  );
  // A retry of the same refresh token within the grace window gets the same successor.
  await tokenRequest(
    { issuer, clientId: client.client_id, clientSecret: client.client_secret },
    { grant_type: 'refresh_token', refresh_token: first.tokens.refresh_token as string },
  );
  const basic = Buffer.from(`${client.client_id}:${client.client_secret}`).toString('base64');
  await fetch(`${issuer}/oauth/revoke`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${basic}` },
    body: new URLSearchParams({ token: refreshed.access_token }),
  });
  const secrets = {
    access_token: first.tokens.access_token,
    refresh_token: first.tokens.refresh_token as string,
    refreshed_access_token: refreshed.access_token,
    refreshed_refresh_token: refreshed.refresh_token as string,
    code: first.code,
    code_verifier: first.verifier,
    client_secret: client.client_secret,
    password: PASSWORD,
    ...Object.fromEntries([...agent.cookies].map(([name, value]) => [`cookie ${name}`, value])),
  };
  const expected = ['login', 'consent', 'token.issued', 'token.refreshed', 'refresh.retry', 'grant.revoked'];
  // The server writes audit events behind the request, within milliseconds: wait up to a second.
  // Wait until every expected event is there and the log has stopped growing.
  let events = await auditEvents();
  for (let i = 0, settled = false; i < 20 && !settled; i++) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    const again = await auditEvents();
    settled = again.length === events.length && expected.every((t) => again.some((e) => e.type === t));
    events = again;
  }
  const types = new Set(events.map((e) => e.type));
  for (const type of expected) {
    assert.ok(types.has(type), `the audit log records ${type}`);
  }
  const rows = JSON.stringify(events);
  for (const [what, value] of Object.entries(secrets)) {
    assert.ok(value && value.length >= 16, `${what} was captured`);
    assert.ok(!rows.includes(value), `the audit log holds no ${what}`);
  }
  // And the CLI's view of the log shows none of them either.
  const tail = ok(await cli(['audit', 'tail', '-n', '1000', '--json', '--data', dir]));
  assert.equal(tail.trim().split('\n').length, events.length);
  for (const [what, value] of Object.entries(secrets))
    assert.ok(!tail.includes(value), `audit tail shows no ${what}`);
});

test('gatehouse audit tail --follow prints events as they happen and stops cleanly on SIGTERM', async () => {
  const follower = start(['audit', 'tail', '-n', '1', '--json', '--follow', '--data', dir]);
  await waitFor(() => (follower.output().trim() ? true : undefined));
  const other = JSON.parse(
    ok(
      await cli([
        'clients',
        'add',
        '--name',
        'Followed',
        '--redirect-uri',
        REDIRECT_URI,
        '--json',
        '--data',
        dir,
      ]),
    ),
  );
  const line = await waitFor(() =>
    follower
      .output()
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string; client_id?: string })
      .find((e) => e.type === 'admin.client_added' && e.client_id === other.client_id),
  );
  assert.ok(line);
  assert.equal(await follower.stop(), 0);
});

test("gatehouse keys rotate publishes a pending key that signs in 5 minutes and schedules the old key's retirement", async () => {
  const before = JSON.parse(ok(await cli(['keys', 'list', '--json', '--data', dir])));
  assert.deepEqual(
    before.map((k: { status: string }) => k.status),
    ['signing'],
  );
  const rotated = JSON.parse(ok(await cli(['keys', 'rotate', '--json', '--data', dir])));
  const keys = JSON.parse(ok(await cli(['keys', 'list', '--json', '--data', dir])));
  const fresh = keys.find((k: { kid: string }) => k.kid === rotated.kid);
  const old = keys.find((k: { kid: string }) => k.kid === before[0].kid);
  assert.equal(fresh.status, 'pending');
  assert.equal(old.status, 'signing');
  assert.ok(fresh.active_from - fresh.created_at >= 300);
  assert.equal(old.retired_at, fresh.active_from);
  assert.equal(old.expires_at, fresh.active_from + 3600);
  assert.ok(!JSON.stringify(keys).includes('"d"'), 'keys list prints no private key');
  // The store holds the private key only encrypted.
  const db = new DatabaseSync(join(dir, 'gatehouse.db'), { readOnly: true });
  try {
    const row = db
      .prepare('SELECT private_jwk_encrypted FROM signing_keys WHERE kid = ?')
      .get(rotated.kid) as {
      private_jwk_encrypted: string;
    };
    assert.match(row.private_jwk_encrypted, /^v1\./);
    assert.ok(!row.private_jwk_encrypted.includes('"d"'));
  } finally {
    db.close();
  }
  assert.ok((await auditEvents()).some((e) => e.type === 'admin.keys_rotated'));
});

interface AuditRow {
  type: string;
  actor?: string;
  grant_id?: string;
  client_id?: string;
}

/** Every row of the audit table, read straight from the SQLite file the server writes. */
async function auditEvents(): Promise<AuditRow[]> {
  const db = new DatabaseSync(join(dir, 'gatehouse.db'), { readOnly: true });
  try {
    return db.prepare('SELECT * FROM audit_events ORDER BY id').all() as unknown as AuditRow[];
  } finally {
    db.close();
  }
}

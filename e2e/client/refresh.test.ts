import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  connectMcp,
  connectWithOAuth,
  FileTokenStore,
  isClientError,
  McpOAuthProvider,
  OAuthClient,
  type StoredTokens,
} from '@gatehouse/client';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { gatehouse } from '../helpers/gatehouse-cli.ts';
import { countingFetch, formInteraction, type Gatehouse, refreshEvents, startGatehouse } from './helpers.ts';

/**
 * The client's "done when" requirements against `gatehouse serve` in a child process: real HTTP on
 * 127.0.0.1, a user made with the CLI, sign-in and consent through the AS's forms (the browser is
 * not the subject here), the encrypted FileTokenStore on disk. "The access token has just expired"
 * is the client's clock moved past `expires_at`: the server's clock cannot be frozen from here,
 * and the client decides when to refresh.
 */
let gh: Gatehouse;
before(async () => {
  gh = await startGatehouse();
});
after(async () => {
  await gh?.close();
});

const WORKER = fileURLToPath(new URL('./refresh-worker.ts', import.meta.url));
const listFiles = { name: 'list_files', arguments: { path: '.' } };

/** A logged-in client on its own store file, with a clock the test moves. */
async function loggedIn(name: string) {
  const paths = { path: join(gh.scratch, `${name}.json`), keyPath: join(gh.scratch, `${name}.key`) };
  const counter = countingFetch();
  let offset = 0;
  const client = new OAuthClient({
    resource: gh.mcpUrl,
    store: new FileTokenStore(paths),
    fetch: counter.fetch,
    now: () => Date.now() + offset,
    interaction: formInteraction(),
  });
  const tokens = await client.authorize();
  assert.ok(tokens.refresh_token && tokens.expires_at, 'login yields a refresh token and an expiry');
  return {
    client,
    counter,
    paths,
    tokens,
    /** Moves the client's clock to just after the access token's expiry. */
    expire: (t: StoredTokens = tokens) => {
      offset = (t.expires_at as number) - Date.now() + 1000;
    },
  };
}

test('single-flight: 20 concurrent tool calls with a just-expired access token make exactly one refresh request', async () => {
  const { client, counter, expire } = await loggedIn('twenty');
  const mcp = await connectMcp(client);
  try {
    assert.equal((await mcp.callTool(listFiles)).isError, undefined);
    const auditBefore = await refreshEvents(gh.dataDir);
    expire();
    const results = await Promise.all(Array.from({ length: 20 }, () => mcp.callTool(listFiles)));
    assert.ok(results.every((r) => !r.isError));
    assert.equal(counter.refreshes(), 1, 'refresh_token grants sent by the client');
    assert.equal(
      (await refreshEvents(gh.dataDir)) - auditBefore,
      1,
      'token.refreshed events in the audit log',
    );
  } finally {
    await mcp.close();
  }
});

test('single-flight through the SDK: McpOAuthProvider under the v2 SDK transport refreshes once for 20 concurrent tool calls', async () => {
  const counter = countingFetch();
  let offset = 0;
  const provider = new McpOAuthProvider({
    resource: gh.mcpUrl,
    store: new FileTokenStore({ path: join(gh.scratch, 'sdk.json'), keyPath: join(gh.scratch, 'sdk.key') }),
    fetch: counter.fetch,
    now: () => Date.now() + offset,
    interaction: formInteraction(),
  });
  const client = new Client({ name: 'gatehouse-e2e', version: '1.0.0' }, { capabilities: {} });
  await connectWithOAuth(
    (t) => client.connect(t),
    () =>
      new StreamableHTTPClientTransport(provider.serverUrl, {
        authProvider: provider,
        fetch: provider.fetch,
      }),
    provider,
  );
  try {
    const tokens = (await provider.oauth.storedTokens()) as StoredTokens;
    const auditBefore = await refreshEvents(gh.dataDir);
    offset = (tokens.expires_at as number) - Date.now() + 1000;
    const results = await Promise.all(Array.from({ length: 20 }, () => client.callTool(listFiles)));
    assert.ok(results.every((r) => !r.isError));
    assert.equal(counter.refreshes(), 1);
    assert.equal((await refreshEvents(gh.dataDir)) - auditBefore, 1);
  } finally {
    await client.close();
    await provider.close();
  }
});

test('single-flight across OS processes: two processes sharing one FileTokenStore refresh once between them', async () => {
  const { paths, tokens, client } = await loggedIn('shared');
  const auditBefore = await refreshEvents(gh.dataDir);
  const offset = String((tokens.expires_at as number) - Date.now() + 1000);
  const workers = [0, 1].map(() => {
    const child = spawn(process.execPath, [WORKER, gh.mcpUrl, paths.path, paths.keyPath, offset, '5'], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.stderr.on('data', (d) => {
      err += d;
    });
    const ready = new Promise<void>((resolve) => {
      const check = () => (out.includes('ready\n') ? resolve() : undefined);
      child.stdout.on('data', check);
    });
    const done = new Promise<{ refreshes: number; ok: number }>((resolve, reject) =>
      child.once('close', (code) =>
        code === 0
          ? resolve(JSON.parse(out.trim().split('\n').at(-1) as string))
          : reject(new Error(`worker exited ${code}: ${err}`)),
      ),
    );
    return { child, ready, done };
  });
  await Promise.all(workers.map((w) => w.ready));
  for (const w of workers) w.child.stdin.write('go\n'); // both start at once
  const results = await Promise.all(workers.map((w) => w.done));
  assert.deepEqual(
    results.map((r) => r.ok),
    [5, 5],
  );
  assert.equal(
    results.reduce((sum, r) => sum + r.refreshes, 0),
    1,
    `refreshes per process: ${JSON.stringify(results)}`,
  );
  assert.equal((await refreshEvents(gh.dataDir)) - auditBefore, 1);
  const after = await client.store.getTokens(tokens.issuer, tokens.resource);
  assert.notEqual(
    after?.refresh_token,
    tokens.refresh_token,
    'the rotated refresh token was stored for both',
  );
});

test('confidential at rest: the store file holds no token, client id or server address in plain text; the key file is 0600', async () => {
  const { paths, client, expire } = await loggedIn('at-rest');
  expire();
  await client.accessToken(); // a refresh, so the file has been rewritten with rotated tokens too
  const tokens = (await client.storedTokens()) as StoredTokens;
  const raw = await readFile(paths.path, 'utf8');
  for (const secret of [tokens.access_token, tokens.refresh_token as string]) {
    assert.ok(!raw.includes(secret), 'token in plain text');
    assert.ok(!raw.includes(Buffer.from(secret).toString('base64')), 'token merely base64-encoded');
    assert.ok(!raw.includes(secret.slice(0, 16)), 'token fragment in plain text');
  }
  for (const visible of [tokens.client_id, gh.issuer, 'refresh_token', 'access_token']) {
    assert.ok(!raw.includes(visible), `"${visible}" readable in the store file`);
  }
  assert.deepEqual(Object.keys(JSON.parse(raw)).sort(), ['ct', 'iv', 'tag', 'v']);
  assert.equal((await stat(paths.keyPath)).mode & 0o777, 0o600);
  assert.equal((await stat(paths.path)).mode & 0o077, 0);
});

test('RFC 7009: a refresh token revoked at /oauth/revoke yields reauthorization_required once, with no retry loop', async () => {
  const { client, counter, tokens, expire } = await loggedIn('revoked-endpoint');
  const revoke = await fetch(`${gh.issuer}/oauth/revoke`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      token: tokens.refresh_token as string,
      token_type_hint: 'refresh_token',
      client_id: tokens.client_id,
    }),
  });
  assert.equal(revoke.status, 200);
  expire();
  const before = counter.refreshes();
  await assert.rejects(client.fetch(gh.mcpUrl, mcpPing()), (e) =>
    isClientError(e, 'reauthorization_required'),
  );
  assert.equal(counter.refreshes() - before, 1, 'one refresh attempt, then the structured error');
  assert.equal(await client.storedTokens(), undefined, 'the dead tokens are forgotten');
  // Without a way to log in (no interaction), a later call fails the same way without refreshing.
  const headless = new OAuthClient({ resource: gh.mcpUrl, store: client.store, fetch: counter.fetch });
  await assert.rejects(headless.fetch(gh.mcpUrl, mcpPing()), (e) =>
    isClientError(e, 'reauthorization_required'),
  );
  assert.equal(counter.refreshes() - before, 1, 'a later call does not refresh again');
});

test('gatehouse grants revoke: the next call (401 on a revoked grant) yields reauthorization_required, never a loop', async () => {
  const { client, counter, tokens } = await loggedIn('revoked-cli');
  const mcp = await connectMcp(client);
  await mcp.callTool(listFiles);
  const list = await gatehouse([
    'grants',
    'list',
    '--client',
    tokens.client_id,
    '--json',
    '--data',
    gh.dataDir,
  ]);
  const grants = JSON.parse(list.stdout) as { id: string }[];
  assert.equal(grants.length, 1);
  const revoked = await gatehouse(['grants', 'revoke', grants[0]?.id as string, '--data', gh.dataDir]);
  assert.equal(revoked.code, 0, revoked.stderr);
  // The running server learns of it within a second (the CLI writes the store; serve polls it).
  const deadline = Date.now() + 5000;
  const before = counter.refreshes();
  let error: unknown;
  while (Date.now() < deadline) {
    try {
      await mcp.callTool(listFiles);
    } catch (err) {
      error = err;
      break;
    }
    await new Promise((resolve) => setTimeout(resolve, 100)); // waiting for another process, not a clock
  }
  await mcp.close().catch(() => {});
  assert.ok(isClientError(error, 'reauthorization_required'), `got ${String(error)}`);
  assert.equal(
    counter.refreshes() - before,
    1,
    'one refresh attempt after the 401, then the structured error',
  );
  assert.equal(await client.storedTokens(), undefined);
});

function mcpPing(): RequestInit {
  return {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }),
  };
}

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { connectMcp, isClientError } from '@gatehouse/client';
import { rawToolsList } from '../mcp/wire.ts';
import { gatewayScene, makeHome, rawToolCall, text } from './scene.ts';
import { EVERYTHING_SERVER, FILESYSTEM_SERVER, type HttpUpstream, startEverythingHttp } from './upstreams.ts';

/**
 * The gateway against real MCP servers from npm, through `gatehouse serve --config` in a child
 * process: the official filesystem server over stdio, one process per user; the official
 * "everything" server over Streamable HTTP (its own process) and over stdio (shared). Driven by
 * Gatehouse's own client (@gatehouse/client, sign-in and consent through the AS's forms) with the
 * official SDK v2 client on top, and by plain HTTP where the wire is the subject.
 */
const TIMEOUT_MS = 4000;
/** An argument value no audit line may hold. */
const SECRET_ARGUMENT = 'sk-live-do-not-log-4242';
let everything: HttpUpstream | undefined;

const scene = gatewayScene({
  users: ['ada', 'bob'],
  async config({ scratch, users }) {
    everything = await startEverythingHttp();
    for (const user of users.values())
      await makeHome(scratch, user, `${user.username}-notes.txt`, `${user.username}'s notes`);
    return {
      mcpServers: {
        files: {
          command: process.execPath,
          args: [FILESYSTEM_SERVER, `${scratch}/homes/\${user}`],
          title: 'Team files',
          readOnlyScope: true,
          process: { mode: 'per-user', maxProcesses: 4 },
        },
        everything: {
          url: everything.url,
          title: 'Everything (HTTP)',
          timeoutMs: TIMEOUT_MS,
          audit: { arguments: 'hashed' },
        },
        'everything-stdio': {
          command: process.execPath,
          args: [EVERYTHING_SERVER, 'stdio'],
          title: 'Everything (stdio)',
        },
      },
    };
  },
});

test.after(async () => {
  await everything?.stop();
});

test('RFC 9728 §3.1: each configured server is its own protected resource at /mcp/<name>, with its metadata at the path-suffixed well-known URL', async () => {
  for (const name of ['files', 'everything', 'everything-stdio']) {
    const response = await fetch(`${scene.issuer}/.well-known/oauth-protected-resource/mcp/${name}`);
    assert.equal(response.status, 200, name);
    const metadata = (await response.json()) as { resource: string; scopes_supported: string[] };
    assert.equal(metadata.resource, scene.url(name));
    assert.ok(metadata.scopes_supported.includes(`tools:execute:${name}`), JSON.stringify(metadata));
  }
  const files = (await (
    await fetch(`${scene.issuer}/.well-known/oauth-protected-resource/mcp/files`)
  ).json()) as { scopes_supported: string[] };
  assert.ok(files.scopes_supported.includes('tools:execute:files:read'), 'readOnlyScope adds the read scope');
  const challenge = await rawToolsList(scene.url('files'), 'not-a-token');
  assert.equal(challenge.status, 401);
  assert.match(
    challenge.headers.get('www-authenticate') ?? '',
    /resource_metadata="[^"]+\/\.well-known\/oauth-protected-resource\/mcp\/files"/,
  );
});

test('per-user stdio processes: two users each reach their own filesystem server process, and neither can read the other’s files', async () => {
  const ada = scene.users.get('ada');
  const bob = scene.users.get('bob');
  assert.ok(ada && bob);
  const a = await scene.connect('ada', 'files');
  const b = await scene.connect('bob', 'files');
  try {
    const listing = (mcp: typeof a.mcp, home: string) =>
      mcp.callTool({ name: 'list_directory', arguments: { path: home } });
    const adaHome = `${scene.scratch}/homes/${ada.id}`;
    const bobHome = `${scene.scratch}/homes/${bob.id}`;
    assert.match(text(await listing(a.mcp, adaHome)), /ada-notes\.txt/);
    assert.match(text(await listing(b.mcp, bobHome)), /bob-notes\.txt/);
    // Each process was started with only its user's folder allowed.
    const adaReadsBob = await a.mcp.callTool({
      name: 'read_text_file',
      arguments: { path: `${bobHome}/bob-notes.txt` },
    });
    assert.equal(adaReadsBob.isError, true);
    assert.match(text(adaReadsBob), /access denied|outside allowed/i);
    assert.doesNotMatch(text(adaReadsBob), /bob's notes/);
    const bobListsAda = await listing(b.mcp, adaHome);
    assert.equal(bobListsAda.isError, true);
    assert.doesNotMatch(text(bobListsAda), /ada-notes/);
    assert.equal((await scene.upstreamPids(/server-filesystem/)).length, 2, 'one process per user');
  } finally {
    await a.mcp.close();
    await b.mcp.close();
  }
});

test('MCP scopes: with readOnlyScope, a token holding tools:execute:files:read lists only the tools the upstream marks readOnlyHint; write_file gets 403 insufficient_scope naming tools:execute:files; Gatehouse’s client steps up and the write succeeds', async () => {
  const ada = scene.users.get('ada');
  assert.ok(ada);
  const home = `${scene.scratch}/homes/${ada.id}`;
  const readOnly = await scene.token('ada', 'files', 'tools:list tools:execute:files:read');
  const listed = await rawToolsList(scene.url('files'), readOnly);
  assert.equal(listed.status, 200);
  const body = await listed.text();
  assert.match(body, /"list_directory"/);
  assert.match(body, /"read_text_file"/);
  assert.doesNotMatch(body, /"write_file"|"edit_file"|"move_file"|"create_directory"/);

  const write = await rawToolCall(scene.url('files'), readOnly, 'write_file', {
    path: `${home}/x.txt`,
    content: 'x',
  });
  assert.equal(write.status, 403);
  const challenge = write.headers.get('www-authenticate') ?? '';
  assert.match(challenge, /error="insufficient_scope"/);
  assert.match(challenge, /scope="[^"]*\btools:execute:files\b/);

  // Gatehouse's client: the same refusal, then re-authorization for the union (SEP-2350) and a retry.
  const { oauth, mcp, consentPages } = await scene.connect(
    'ada',
    'files',
    'tools:list tools:execute:files:read',
  );
  try {
    assert.deepEqual(
      (await mcp.listTools()).tools.every((t) => t.annotations?.readOnlyHint === true),
      true,
      'only read-only tools are listed',
    );
    const written = await mcp.callTool({
      name: 'write_file',
      arguments: { path: `${home}/stepped-up.txt`, content: 'written after step-up' },
    });
    assert.notEqual(written.isError, true, text(written));
    // The step-up consent page offered only the new scope; what was allowed before is stated.
    const offered = [
      ...(consentPages.at(-1) ?? '').matchAll(/type="checkbox" id="[^"]*" name="scope" value="([^"]+)"/g),
    ];
    assert.deepEqual(
      offered.map((m) => m[1]),
      ['tools:execute:files'],
    );
    assert.match(consentPages.at(-1) ?? '', /can already/i);
    const tokens = await oauth.storedTokens();
    assert.match(tokens?.scope ?? '', /\btools:execute:files\b(?!:)/);
    assert.match(
      text(await mcp.callTool({ name: 'read_text_file', arguments: { path: `${home}/stepped-up.txt` } })),
      /written after step-up/,
    );
    assert.ok((await mcp.listTools()).tools.some((t) => t.name === 'write_file'));
  } finally {
    await mcp.close();
  }
});

test('RFC 8707 §2 and RFC 9068 §4: a token issued for /mcp/files is refused at /mcp/everything with 401 invalid_token', async () => {
  const token = await scene.token('ada', 'files', 'tools:list tools:execute:files');
  assert.equal((await rawToolsList(scene.url('files'), token)).status, 200);
  const refused = await rawToolsList(scene.url('everything'), token);
  assert.equal(refused.status, 401);
  assert.match(refused.headers.get('www-authenticate') ?? '', /error="invalid_token"/);
  assert.equal((await rawToolsList(scene.url('everything-stdio'), token)).status, 401);
});

test('a slow upstream: a call that outlasts the server’s timeoutMs gets an error naming the server and the deadline, and the next call works', async () => {
  const { mcp } = await scene.connect('bob', 'everything');
  try {
    const slow = await mcp
      .callTool({ name: 'trigger-long-running-operation', arguments: { duration: 60, steps: 2 } })
      .then(
        (result) => text(result),
        (err: Error) => err.message,
      );
    assert.match(slow, new RegExp(`"everything" did not answer within ${TIMEOUT_MS} ms`));
    assert.equal(
      text(await mcp.callTool({ name: 'echo', arguments: { message: 'still here' } })),
      'Echo: still here',
    );
  } finally {
    await mcp.close();
  }
});

test('a stdio upstream killed mid-session is started again: the session’s next calls succeed on a new process', async () => {
  const { mcp } = await scene.connect('bob', 'everything-stdio');
  try {
    assert.equal(text(await mcp.callTool({ name: 'echo', arguments: { message: 'one' } })), 'Echo: one');
    const [pid, ...others] = await scene.upstreamPids(/server-everything\S*\s+stdio/);
    assert.ok(pid && others.length === 0, 'one shared process');
    process.kill(pid, 'SIGKILL');
    // The first call after the crash may report it (the gateway learns of the exit when the pipe
    // closes); the gateway then starts a new process, with backoff, and calls succeed again.
    let answer = '';
    for (let attempt = 0; attempt < 20 && answer !== 'Echo: two'; attempt++) {
      answer = await mcp.callTool({ name: 'echo', arguments: { message: 'two' } }).then(
        (r) => text(r),
        (err: Error) => err.message,
      );
      if (answer !== 'Echo: two')
        assert.match(answer, /"everything-stdio" (stopped|could not|is restarting|failed)/i);
    }
    assert.equal(answer, 'Echo: two');
    const [restarted] = await scene.upstreamPids(/server-everything\S*\s+stdio/);
    assert.ok(restarted && restarted !== pid, 'a new process');
  } finally {
    await mcp.close();
  }
});

test('audit trail: `gatehouse audit tail --json` holds each tools/call through the gateway (user, client, server, tool, outcome, duration) and never an argument value', async () => {
  const bob = scene.users.get('bob');
  assert.ok(bob);
  const { mcp } = await scene.connect('bob', 'everything');
  try {
    await mcp.callTool({ name: 'echo', arguments: { message: SECRET_ARGUMENT } });
    await mcp.callTool({ name: 'get-sum', arguments: { a: 40, b: 2 } });
  } finally {
    await mcp.close();
  }
  const denied = await scene.token('bob', 'files', 'tools:list tools:execute:files:read');
  const refused = await rawToolCall(scene.url('files'), denied, 'write_file', {
    path: '/x',
    content: SECRET_ARGUMENT,
  });
  assert.equal(refused.status, 403);

  // The AS writes audit events behind the request in batches; read until ours are there.
  let audit = await scene.audit();
  const calls = () => audit.events.filter((e) => e.type === 'mcp.call');
  const find = (server: string, name: string) =>
    calls().find((e) => e.detail?.server === server && e.detail?.name === name && e.user_id === bob.id);
  for (let i = 0; i < 20 && !(find('everything', 'get-sum') && find('files', 'write_file')); i++) {
    audit = await scene.audit();
  }
  const echo = find('everything', 'echo');
  const sum = find('everything', 'get-sum');
  const write = find('files', 'write_file');
  assert.ok(echo && sum && write, audit.output);
  for (const event of [echo, sum]) {
    assert.equal(event.detail?.method, 'tools/call');
    assert.equal(event.detail?.outcome, 'allowed');
    assert.equal(typeof event.detail?.duration_ms, 'number');
    assert.ok(event.client_id, 'the client is recorded');
    // audit.arguments = "hashed" on this server: an HMAC of the arguments under a key from the
    // master secret, never the values (nor a plain hash that a guess could be checked against).
    assert.match(String(event.detail?.arguments_hmac), /^[A-Za-z0-9_-]{43}$/);
  }
  assert.equal(write.detail?.outcome, 'denied');
  assert.equal(write.detail?.arguments_hmac, undefined, 'audit.arguments defaults to none');
  assert.doesNotMatch(audit.output, new RegExp(SECRET_ARGUMENT));
  assert.doesNotMatch(audit.output, /"a":40|"message"/);
});

test('errors are shaped: a call to an unknown tool through the gateway is the upstream’s JSON-RPC error, not a hang or a 500', async () => {
  const { mcp } = await scene.connect('ada', 'everything');
  try {
    const outcome = await mcp.callTool({ name: 'no-such-tool', arguments: {} }).then(
      (r) => ({ isError: r.isError === true, message: text(r) }),
      (err: unknown) => ({ isError: true, message: isClientError(err) ? err.code : String(err) }),
    );
    assert.equal(outcome.isError, true);
    assert.match(outcome.message, /no-such-tool|not found|unknown/i);
  } finally {
    await mcp.close();
  }
});

test('JSON-RPC 2.0 §4: two users sending the same request id at once to one shared stdio upstream each get their own answer', async () => {
  const tokens = await Promise.all(
    ['ada', 'bob'].map((user) => scene.token(user, 'everything-stdio', 'tools:execute:everything-stdio')),
  );
  const answers = await Promise.all(
    Array.from({ length: 10 }, async (_, i) => {
      const message = `caller ${i}`;
      const response = await rawToolCall(scene.url('everything-stdio'), tokens[i % 2] as string, 'echo', {
        message,
      });
      return { message, body: await response.text() };
    }),
  );
  for (const { message, body } of answers) {
    assert.match(body, new RegExp(`Echo: ${message}"`), body);
    assert.match(body, /"id":1\b/, 'the client’s own id comes back');
  }
});

test('MCP 2026-07-28: a client pinned to the stateless revision (Mcp-Method / Mcp-Name headers) reaches a 2025-era upstream through the gateway', async () => {
  const { oauth } = await scene.connect(
    'ada',
    'everything-stdio',
    'tools:list tools:execute:everything-stdio',
  );
  const mcp = await connectMcp(oauth, { protocolVersion: '2026-07-28' });
  try {
    assert.ok((await mcp.listTools()).tools.some((t) => t.name === 'echo'));
    assert.equal(
      text(await mcp.callTool({ name: 'echo', arguments: { message: 'new era' } })),
      'Echo: new era',
    );
  } finally {
    await mcp.close();
  }
});

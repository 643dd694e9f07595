import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { Client } from '@modelcontextprotocol/client';
import type { McpServerConfig } from '../config/schema.ts';
import { USER_PLACEHOLDER as USER } from '../config/schema.ts';
import { UpstreamError, UpstreamPool } from './pool.ts';
import { ManualTimers } from './testing/manual-timers.ts';

// Real processes: the fixture is an MCP server built on the official SDK v2, spawned over stdio.
const FIXTURE = fileURLToPath(new URL('./testing/fixture-server.ts', import.meta.url));
// Generous: starting a Node process with the SDK takes about a second on a busy machine.
const TIMEOUT_MS = 10_000;
const dirs: string[] = [];
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function fixture(extra: Partial<McpServerConfig> = {}): McpServerConfig {
  return { command: process.execPath, args: [FIXTURE, '--label', 'fx'], timeoutMs: TIMEOUT_MS, ...extra };
}

function pool(
  config: McpServerConfig,
  options: { timers?: ManualTimers; backoff?: { initialMs: number } } = {},
) {
  const lines: string[] = [];
  const upstreams = new UpstreamPool({
    servers: { fx: config },
    log: (server, line) => lines.push(`${server}: ${line}`),
    ...options,
  });
  return { upstreams, lines };
}

async function call(client: Client, name: string, args: Record<string, unknown> = {}, signal?: AbortSignal) {
  const result = await client.request(
    { method: 'tools/call', params: { name, arguments: args } },
    signal ? { signal } : undefined,
  );
  const content = result.content as Array<{ type: string; text: string }>;
  return JSON.parse(content[0]?.text ?? 'null');
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  assert.fail('expected a rejection');
}

/** Running (a killed process no one has reaped yet, state Z, counts as dead). */
function alive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

test('MCP stdio transport: a shared process serves every user, with only the configured environment plus basics', async () => {
  process.env.GATEHOUSE_SECRET = 'must-not-reach-upstream';
  const { upstreams, lines } = pool(fixture({ env: { FIXTURE_USER: 'configured' } }));
  try {
    const alice = await call(await upstreams.client('fx', 'alice'), 'whoami');
    const bob = await call(await upstreams.client('fx', 'bob'), 'whoami');
    assert.equal(alice.pid, bob.pid);
    assert.equal(alice.FIXTURE_USER, 'configured');
    assert.ok(!alice.envNames.includes('GATEHOUSE_SECRET'));
    assert.ok(
      alice.envNames.every((name: string) =>
        ['FIXTURE_USER', 'HOME', 'LOGNAME', 'PATH', 'SHELL', 'TERM', 'USER'].includes(name),
      ),
    );
    assert.ok(lines.includes('fx: fixture fx ready'), 'stderr is logged line by line under the server name');
    assert.deepEqual(upstreams.status(), [{ server: 'fx', transport: 'stdio', mode: 'shared', running: 1 }]);
  } finally {
    delete process.env.GATEHOUSE_SECRET;
    await upstreams.close();
  }
});

test('JSON-RPC 2.0 §5.1: upstream requests for sampling and roots are refused with -32601 method not found', async () => {
  const { upstreams } = pool(fixture());
  try {
    const client = await upstreams.client('fx', 'alice');
    for (const method of ['sampling/createMessage', 'roots/list', 'elicitation/create']) {
      const answer = await call(client, 'ask_client', { method });
      assert.deepEqual([answer.answered, answer.code], [false, -32601], method);
    }
  } finally {
    await upstreams.close();
  }
});

test('MCP stdio transport: per-user processes, one per user, with the user (path-safe) in args, env and cwd', async () => {
  const root = realpathSync(mkdtempSync(path.join(tmpdir(), 'gatehouse-upstream-')));
  dirs.push(root);
  const { upstreams } = pool(
    fixture({
      args: [FIXTURE, '--label', `label-${USER}`],
      env: { FIXTURE_USER: USER },
      cwd: path.join(root, USER),
      process: { mode: 'per-user' },
    }),
  );
  try {
    const alice = await call(await upstreams.client('fx', 'alice'), 'whoami');
    const mallory = await call(await upstreams.client('fx', '../mallory'), 'whoami');
    const aliceAgain = await call(await upstreams.client('fx', 'alice'), 'whoami');
    assert.notEqual(alice.pid, mallory.pid);
    assert.equal(aliceAgain.pid, alice.pid);
    assert.deepEqual(
      [alice.label, alice.FIXTURE_USER, alice.cwd],
      ['label-alice', 'alice', path.join(root, 'alice')],
    );
    assert.deepEqual(
      [mallory.label, mallory.FIXTURE_USER, mallory.cwd],
      ['label-_2e_2e_2fmallory', '_2e_2e_2fmallory', path.join(root, '_2e_2e_2fmallory')],
    );
    assert.deepEqual(upstreams.status()[0]?.running, 2);
    assert.equal(((await rejection(upstreams.client('fx', ''))) as UpstreamError).reason, 'refused');
  } finally {
    await upstreams.close();
  }
});

test('MCP stdio transport: a process idle for process.idleSeconds is stopped; one with a request in flight is not', async () => {
  const timers = new ManualTimers();
  const { upstreams, lines } = pool(fixture({ process: { idleSeconds: 60 } }), { timers });
  try {
    const client = await upstreams.client('fx', 'alice');
    const { pid } = await call(client, 'whoami');
    const busy = new AbortController();
    const inFlight = call(client, 'slow', {}, busy.signal).catch(() => 'aborted');
    timers.advance(10 * 60_000);
    assert.equal(upstreams.status()[0]?.running, 1, 'a request in flight keeps it');
    busy.abort();
    assert.equal(await inFlight, 'aborted');
    timers.advance(59_999);
    assert.equal(upstreams.status()[0]?.running, 1);
    timers.advance(1);
    assert.equal(upstreams.status()[0]?.running, 0);
    assert.ok(lines.includes('fx: stopped after 60 s without requests'));
    const next = await call(await upstreams.client('fx', 'alice'), 'whoami');
    assert.notEqual(next.pid, pid, 'the next request starts a new process');
    assert.equal(alive(pid), false);
  } finally {
    await upstreams.close();
  }
});

test('MCP stdio transport: a crash mid-call fails that call as crashed; the next call gets a new process, with backoff after repeated crashes', async () => {
  const timers = new ManualTimers();
  const { upstreams, lines } = pool(fixture(), { timers, backoff: { initialMs: 8_000 } });
  try {
    const first = await upstreams.client('fx', 'alice');
    const { pid } = await call(first, 'whoami');
    const crashed = (await rejection(call(first, 'crash'))) as UpstreamError;
    assert.ok(crashed instanceof UpstreamError);
    assert.equal(crashed.reason, 'crashed');
    assert.equal(crashed.message, 'The MCP server "fx" stopped while handling the request.');
    const status = upstreams.status()[0];
    assert.equal(status?.running, 0);
    assert.equal(
      status?.lastError,
      'the process exited unexpectedly (last stderr: fixture: crashing on purpose)',
    );
    assert.ok(lines.includes('fx: the process exited unexpectedly; the next request starts it again'));
    const stale = (await rejection(call(first, 'whoami'))) as UpstreamError;
    assert.equal(stale.reason, 'crashed', 'a client kept past the crash fails the same way');

    // One crash: the next call gets a new process at once. It crashes too (the second in a row).
    const second = await upstreams.client('fx', 'alice');
    assert.equal(((await rejection(call(second, 'crash'))) as UpstreamError).reason, 'crashed');

    // Second crash in a row: the next start waits 8 s (within the request's 10 s deadline).
    let started = false;
    const waiting = upstreams.client('fx', 'alice').then((client) => {
      started = true;
      return client;
    });
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(started, false);
    timers.advance(8_000);
    const third = await waiting;
    assert.equal(((await rejection(call(third, 'crash'))) as UpstreamError).reason, 'crashed');

    // Third crash in a row: 16 s, more than the deadline: refused at once, saying when.
    const refused = (await rejection(upstreams.client('fx', 'alice'))) as UpstreamError;
    assert.equal(refused.reason, 'unavailable');
    assert.equal(
      refused.message,
      'The MCP server "fx" failed 3 times in a row; it is started again in 16 s.',
    );
    timers.advance(16_000);
    const fourth = await call(await upstreams.client('fx', 'alice'), 'whoami');
    assert.notEqual(fourth.pid, pid);
  } finally {
    await upstreams.close();
  }
});

test('MCP lifecycle §Timeouts: a tool slower than timeoutMs fails with a sentence naming the server, and the process serves on', async () => {
  const { upstreams } = pool(fixture({ timeoutMs: 5_000 }));
  try {
    const client = await upstreams.client('fx', 'alice');
    const { pid } = await call(client, 'whoami');
    const error = (await rejection(call(client, 'slow'))) as UpstreamError;
    assert.ok(error instanceof UpstreamError);
    assert.equal(error.reason, 'timeout');
    assert.equal(error.message, 'The MCP server "fx" did not answer within 5000 ms.');
    assert.equal(upstreams.status()[0]?.lastError, error.message);
    assert.equal((await call(client, 'whoami')).pid, pid);
  } finally {
    await upstreams.close();
  }
});

test('MCP stdio transport: at most process.maxProcesses run; when all are busy the next user is refused, an idle one makes room', async () => {
  const { upstreams, lines } = pool(fixture({ process: { mode: 'per-user', maxProcesses: 1 } }));
  try {
    const alice = await upstreams.client('fx', 'alice');
    const { pid } = await call(alice, 'whoami');
    const busy = new AbortController();
    const inFlight = call(alice, 'slow', {}, busy.signal).catch(() => 'aborted');
    const refused = (await rejection(upstreams.client('fx', 'bob'))) as UpstreamError;
    assert.equal(refused.reason, 'unavailable');
    assert.equal(
      refused.message,
      'The MCP server "fx" already runs 1 processes, all busy; try again shortly.',
    );
    busy.abort();
    await inFlight;
    const bob = await call(await upstreams.client('fx', 'bob'), 'whoami');
    assert.notEqual(bob.pid, pid);
    assert.equal(upstreams.status()[0]?.running, 1);
    assert.ok(lines.includes('fx: (alice) stopped to make room for another user'));
  } finally {
    await upstreams.close();
  }
});

test('MCP stdio transport: processes stop with the gateway; afterwards requests fail as unavailable', async () => {
  const { upstreams } = pool(fixture());
  const { pid } = await call(await upstreams.client('fx', 'alice'), 'whoami');
  assert.equal(alive(pid), true);
  await upstreams.close();
  assert.equal(alive(pid), false);
  assert.deepEqual(upstreams.status()[0]?.running, 0);
  const error = (await rejection(upstreams.client('fx', 'alice'))) as UpstreamError;
  assert.deepEqual([error.reason, error.message], ['unavailable', 'The gateway is shutting down.']);
});

test('MCP stdio transport: upstream processes die with the gateway even when it exits without closing the pool', async () => {
  const gateway = fileURLToPath(new URL('./testing/exiting-gateway.ts', import.meta.url));
  const { stdout } = await promisify(execFile)(process.execPath, [gateway, FIXTURE], { timeout: 60_000 });
  const pid = Number(stdout.trim());
  assert.ok(pid > 0);
  // The fixture was started with --linger: without the gateway's exit hook it would live on.
  assert.equal(alive(pid), false);
});

test('MCP stdio transport: a command that cannot be started fails as unavailable, and the status says why', async () => {
  const { upstreams } = pool({
    command: path.join(tmpdir(), 'gatehouse-no-such-command'),
    timeoutMs: TIMEOUT_MS,
  });
  try {
    const error = (await rejection(upstreams.client('fx', 'alice'))) as UpstreamError;
    assert.deepEqual(
      [error.reason, error.message],
      ['unavailable', 'The MCP server "fx" could not be started.'],
    );
    assert.equal(upstreams.status()[0]?.lastError, 'The MCP server "fx" could not be started.');
    const unknown = (await rejection(upstreams.client('nope', 'alice'))) as UpstreamError;
    assert.equal(unknown.reason, 'unavailable');
  } finally {
    await upstreams.close();
  }
});

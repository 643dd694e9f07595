import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, before, test } from 'node:test';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import {
  startTestAuthorizationServer,
  type TestAuthorizationServer,
} from '../../resource/test/fixture-as.ts';
import { startProtectedDemo } from './helpers.ts';

const SCOPE = 'tools:list tools:execute:database';
// Generous, so that starting the SQL processes on a loaded machine never reaches it; the runaway query needs minutes.
const DEADLINE_MS = 5000;

interface ToolResult {
  content: Array<{ type: string; text: string }>;
  isError?: boolean;
}

let as: TestAuthorizationServer;
let demo: Awaited<ReturnType<typeof startProtectedDemo>>;
before(async () => {
  as = await startTestAuthorizationServer();
  demo = await startProtectedDemo({
    authorizationServers: [as.issuer],
    revocations: as.revocations,
    database: { deadlineMs: DEADLINE_MS, processes: 2 },
  });
});
after(async () => {
  await demo.close();
  await as.close();
});

/** One user's official MCP SDK (v2) client, calling tools with a bearer token for `sub`. */
async function connect(sub: string) {
  const token = await as.mint({ aud: demo.resource, scope: SCOPE, sub });
  const client = new Client({ name: `test-${sub}`, version: '1.0.0' });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(demo.resource), {
      requestInit: { headers: { authorization: `Bearer ${token}` } },
    }),
  );
  return {
    call: async (name: 'query' | 'execute', sql: string) =>
      (await client.callTool({ name, arguments: { sql } })) as ToolResult,
    close: () => client.close(),
  };
}

function committedNoteTitles(): string[] {
  const reader = new DatabaseSync(path.join(demo.dataDir, 'demo.sqlite'), { readOnly: true });
  try {
    return reader
      .prepare('SELECT title FROM notes')
      .all()
      .map((r) => String(r.title));
  } finally {
    reader.close();
  }
}

test('MCP tools §Error Handling: execute refuses BEGIN with an isError result, and the next user’s write commits', async () => {
  const alice = await connect('alice');
  const bob = await connect('bob');
  try {
    for (const sql of ['BEGIN', 'SAVEPOINT s', "INSERT INTO notes (title) VALUES ('x'); BEGIN"]) {
      const refused = await alice.call('execute', sql);
      assert.equal(refused.isError, true, sql);
      assert.match(refused.content[0]?.text ?? '', /not allowed|one statement/, sql);
    }
    const written = await bob.call('execute', "INSERT INTO notes (title) VALUES ('bob was here')");
    assert.equal(written.isError, undefined);
    assert.match(written.content[0]?.text ?? '', /1 row\(s\) changed/);
    assert.ok(
      committedNoteTitles().includes('bob was here'),
      'bob’s write is committed, not held in a transaction',
    );
    assert.ok(!committedNoteTitles().includes('x'), 'nothing of a refused text ran');
  } finally {
    await alice.close();
    await bob.close();
  }
});

test('MCP tools §Error Handling: a cross join that would run for minutes ends in an isError timeout while the process answers others', async () => {
  // Another part of the same process (as the AS is in `gatehouse serve`): it must keep answering.
  const neighbour = createServer((_req, res) => res.end('still here'));
  await new Promise<void>((resolve) => neighbour.listen(0, '127.0.0.1', resolve));
  const alice = await connect('alice');
  const bob = await connect('bob');
  try {
    await Promise.all([bob.call('query', 'SELECT 1'), bob.call('query', 'SELECT 1')]); // processes started
    const settled: string[] = [];
    // 2^32 rows: minutes of work for SQLite, which nothing can interrupt but killing its process.
    const tables = Array.from({ length: 32 }, (_, i) => `notes t${i}`).join(', ');
    const runaway = alice.call('query', `SELECT count(*) AS n FROM ${tables}`).then((result) => {
      settled.push('cross join');
      return result;
    });
    const port = (neighbour.address() as AddressInfo).port;
    const http = fetch(`http://127.0.0.1:${port}/`)
      .then((res) => res.text())
      .then((text) => settled.push(`http: ${text}`));
    const other = bob.call('query', 'SELECT title FROM notes').then((result) => {
      assert.equal(result.isError, undefined);
      settled.push('other tool call');
    });
    const [result] = await Promise.all([runaway, http, other]);
    assert.equal(settled.at(-1), 'cross join', `answered first: ${settled.join(', ')}`);
    assert.equal(result.isError, true);
    assert.match(result.content[0]?.text ?? '', /did not finish within 5 s/);
  } finally {
    await alice.close();
    await bob.close();
    neighbour.close();
  }
});

import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';

const STDIO = fileURLToPath(new URL('../src/stdio.ts', import.meta.url));
const text = (result: unknown) => (result as { content: { text: string }[] }).content[0]?.text ?? '';

/** The official SDK v2 stdio client starting the demo as a process, as an MCP host or gateway does. */
async function connect(args: string[], env: Record<string, string> = {}) {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [STDIO, ...args],
    env: { PATH: process.env.PATH ?? '', ...env },
    stderr: 'pipe',
  });
  const client = new Client({ name: 'demo-stdio-test', version: '1.0.0' });
  await client.connect(transport);
  return { client, transport };
}

test('MCP stdio transport: the demo serves every tool, its table resources and prompts to the process that started it, data folder from --data', async () => {
  const data = await mkdtemp(path.join(tmpdir(), 'gatehouse-demo-stdio-'));
  const { client, transport } = await connect(['--data', data]);
  try {
    const { tools } = await client.listTools();
    assert.deepEqual(tools.map((t) => t.name).sort(), [
      'execute',
      'list_files',
      'query',
      'read_file',
      'search_files',
      'write_file',
    ]);
    assert.match(text(await client.callTool({ name: 'list_files', arguments: {} })), /README\.md/);
    assert.match(
      text(await client.callTool({ name: 'query', arguments: { sql: 'SELECT title FROM notes' } })),
      /Welcome/,
    );
    assert.ok((await client.listPrompts()).prompts.length > 0);
    const pid = transport.pid;
    assert.ok(pid);
    // MCP stdio binding: closing the server's stdin ends it (its SQL processes with it).
    const exited = new Promise<void>((resolve) => {
      const poll = setInterval(() => {
        try {
          process.kill(pid, 0);
        } catch {
          clearInterval(poll);
          resolve();
        }
      }, 20);
    });
    await client.close();
    await exited;
  } finally {
    await client.close();
    await rm(data, { recursive: true, force: true });
  }
});

test('MCP stdio transport: the data folder may come from GATEHOUSE_DEMO_DATA; without one the process says how to run it on stderr and exits 2', async () => {
  const data = await mkdtemp(path.join(tmpdir(), 'gatehouse-demo-stdio-'));
  const { client } = await connect([], { GATEHOUSE_DEMO_DATA: data });
  try {
    await client.callTool({ name: 'write_file', arguments: { path: 'note.txt', content: 'hello' } });
    assert.match(
      text(await client.callTool({ name: 'read_file', arguments: { path: 'note.txt' } })),
      /hello/,
    );
  } finally {
    await client.close();
    await rm(data, { recursive: true, force: true });
  }

  const { spawn } = await import('node:child_process');
  const child = spawn(process.execPath, [STDIO], { env: { PATH: process.env.PATH ?? '' }, stdio: 'pipe' });
  let stderr = '';
  let stdout = '';
  child.stderr.on('data', (d) => {
    stderr += d;
  });
  child.stdout.on('data', (d) => {
    stdout += d;
  });
  const [code] = await once(child, 'close');
  assert.equal(code, 2);
  assert.match(stderr, /--data DIR/);
  assert.equal(stdout, '', 'stdout carries JSON-RPC only');
});

import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { gatehouse } from '../helpers/gatehouse-cli.ts';
import { tempDir } from '../helpers/temp.ts';
import { FILESYSTEM_SERVER } from './upstreams.ts';

/**
 * `gatehouse config check FILE` and `gatehouse serve --config FILE` on files an operator might
 * write: each problem on its own line as `<file>: <key path>: <what is expected>`, exit 1, and
 * never a value from the file (it may be a secret).
 */
const SECRET = 'sk-live-inline-secret-9876';
let folder: Awaited<ReturnType<typeof tempDir>>;
before(async () => {
  folder = await tempDir('gatehouse-config-check-');
});
after(async () => {
  await folder?.remove();
});

async function file(name: string, content: object): Promise<string> {
  const path = join(folder.dir, name);
  await writeFile(path, JSON.stringify(content, null, 2));
  return path;
}

const BAD = {
  mcpServer: {},
  tokens: { accessTokenTtl: '2h' },
  mcpServers: {
    Files_Server: { command: process.execPath, args: [FILESYSTEM_SERVER, '/tmp'] },
    files: {
      command: process.execPath,
      args: [FILESYSTEM_SERVER, '/tmp'],
      process: { mode: 'per-process' },
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a configuration-file reference, not a template
      env: { API_TOKEN: '${env:GATEHOUSE_E2E_SURELY_UNSET}' },
    },
    remote: { url: `ftp://127.0.0.1/mcp?key=${SECRET}`, headers: { Authorization: `Bearer ${SECRET}` } },
  },
};

test('gatehouse config check: a bad file exits 1 with one line per problem naming its key path and what is expected, and quotes no value', async () => {
  const bad = await file('bad.json', BAD);
  const result = await gatehouse(['config', 'check', bad], '', { GATEHOUSE_E2E_SURELY_UNSET: '' });
  assert.equal(result.code, 1, result.stdout);
  const lines = result.stderr.trim().split('\n');
  const expect = (path: string, what: RegExp) =>
    assert.ok(
      lines.some((l) => l.startsWith(`${bad}: ${path}: `) && what.test(l)),
      `no line for ${path} matching ${what}:\n${result.stderr}`,
    );
  expect('mcpServer', /unknown|not a known key|unrecognized/i);
  expect('tokens.accessTokenTtl', /15m to 1h/);
  expect('mcpServers.Files_Server', /server name/);
  expect('mcpServers.files.process.mode', /"shared" or "per-user"/);
  expect('mcpServers.files.env.API_TOKEN', /GATEHOUSE_E2E_SURELY_UNSET/);
  expect('mcpServers.remote.url', /https or loopback URL/);
  assert.doesNotMatch(result.stderr + result.stdout, new RegExp(SECRET));
});

test('gatehouse serve --config refuses to start on the same file with the same lines; config check passes a good file with a one-line summary', async () => {
  const bad = await file('bad-serve.json', BAD);
  const refused = await gatehouse([
    'serve',
    '--port',
    '0',
    '--config',
    bad,
    '--data',
    join(folder.dir, 'data'),
  ]);
  assert.notEqual(refused.code, 0);
  assert.match(refused.stderr, new RegExp(`${bad.replaceAll('.', '\\.')}: mcpServers\\.remote\\.url: `));
  assert.doesNotMatch(refused.stderr + refused.stdout, new RegExp(SECRET));

  const good = await file('good.json', {
    mcpServers: {
      files: {
        command: process.execPath,
        args: [FILESYSTEM_SERVER, `${folder.dir}/homes/\${user}`],
        process: { mode: 'per-user' },
      },
      everything: {
        url: 'http://127.0.0.1:3001/mcp',
        // biome-ignore lint/suspicious/noTemplateCurlyInString: a configuration-file reference, not a template
        headers: { Authorization: 'Bearer ${env:GATEHOUSE_E2E_TOKEN}' },
      },
    },
  });
  const checked = await gatehouse(['config', 'check', good], '', { GATEHOUSE_E2E_TOKEN: SECRET });
  assert.equal(checked.code, 0, checked.stderr);
  assert.match(checked.stdout, /valid; 2 MCP servers: files \(stdio, per-user\), everything \(http\)/);
  assert.doesNotMatch(checked.stdout, new RegExp(SECRET));
});

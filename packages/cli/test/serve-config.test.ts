// biome-ignore-all lint/suspicious/noTemplateCurlyInString: configuration files write ${env:NAME} as users do
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { toNodeListener } from '@gatehouse/resource';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { createMcpHandler } from '@modelcontextprotocol/server';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { closeServer, listen } from '../../../e2e/helpers/loopback.ts';
import { tinyUpstream } from '../../gateway/test/fixtures/tiny-upstream.ts';
import { cli, start, tokenRequest, waitFor } from './harness.ts';

/**
 * `gatehouse serve` with a configuration file and the token-lifetime flags, `gatehouse config
 * check` and `gatehouse servers`, through the real CLI over real HTTP on loopback.
 */
const ISSUER_LINE = /Issuer \(authorization server\):\s+(http:\/\/127\.0\.0\.1:\d+)/;
const EXAMPLE = new URL('../../../examples/gatehouse.json', import.meta.url).pathname;

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gatehouse-serve-config-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

const writeConfig = async (name: string, config: unknown) => {
  const file = join(dir, name);
  await writeFile(file, JSON.stringify(config, null, 2));
  return file;
};

/** `gatehouse serve --port 0 …` until it prints its issuer. */
async function serve(args: string[]) {
  const server = start(['serve', '--port', '0', ...args]);
  try {
    const [, issuer] = await server.waitForOutput(ISSUER_LINE, 15_000);
    return { ...server, issuer: issuer as string };
  } catch (err) {
    await server.stop();
    throw err;
  }
}

describe('gatehouse config check', () => {
  test('Configuration: a valid file gives exit 0 and a one-line summary', async () => {
    const file = await writeConfig('valid.json', {
      mcpServers: {
        files: { command: 'node', args: ['server.js'], process: { mode: 'per-user' } },
        github: {
          url: 'https://mcp.example/mcp',
          headers: { Authorization: 'Bearer ${env:TEST_GITHUB_TOKEN}' },
        },
      },
    });
    const result = await cli(['config', 'check', file], '', { TEST_GITHUB_TOKEN: 'ghp_x' });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, `${file}: valid; 2 MCP servers: files (stdio, per-user), github (http)\n`);
  });

  test('Configuration: an invalid file gives exit 1 and each problem on its own line with its key path', async () => {
    const file = await writeConfig('invalid.json', {
      prot: 8080,
      tokens: { accessTokenTtl: '2h' },
      mcpServers: {
        github: {
          url: 'https://mcp.example/mcp',
          headers: { Authorization: 'Bearer ${env:TEST_UNSET_TOKEN}' },
        },
      },
    });
    const result = await cli(['config', 'check', file], '', { TEST_UNSET_TOKEN: '' });
    assert.equal(result.code, 1);
    assert.equal(result.stdout, '');
    assert.deepEqual(result.stderr.trimEnd().split('\n').sort(), [
      `${file}: mcpServers.github.headers.Authorization: refers to the environment variable TEST_UNSET_TOKEN, which is not set`,
      `${file}: prot: unknown key; did you mean "port"?`,
      `${file}: tokens.accessTokenTtl: expected an access-token lifetime from 15m to 1h`,
    ]);
  });

  test('Configuration: the example configuration in the repository is valid', async () => {
    const result = await cli(['config', 'check', EXAMPLE], '', { UPSTREAM_API_KEY: 'example' });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /: valid; \d+ MCP servers?/);
  });

  test('Configuration: gatehouse config without check prints its usage and exits 1', async () => {
    const result = await cli(['config', 'lint', 'x.json']);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /Usage: gatehouse config check FILE/);
  });
});

describe('gatehouse serve: token lifetimes', () => {
  test('RFC 6749 §5.1: gatehouse serve --access-token-ttl 15m issues tokens with expires_in 900', async () => {
    const data = join(dir, 'ttl');
    const client = JSON.parse(
      (await cli(['clients', 'add', '--name', 'Robot', '--confidential', '--json', '--data', data])).stdout,
    ) as { client_id: string; client_secret: string };
    const server = await serve([
      '--data',
      data,
      '--access-token-ttl',
      '15m',
      '--refresh-token-ttl',
      '30d',
      '--refresh-token-idle-ttl',
      '14d',
    ]);
    try {
      const tokens = (await tokenRequest(
        { issuer: server.issuer, clientId: client.client_id, clientSecret: client.client_secret },
        { grant_type: 'client_credentials', scope: 'tools:list', resource: `${server.issuer}/mcp` },
      )) as unknown as { expires_in: number };
      assert.equal(tokens.expires_in, 900);
    } finally {
      await server.stop();
    }
  });

  test('Configuration: an access-token lifetime outside 15 min–1 h, or no duration at all, is refused before starting', async () => {
    const tooLong = await cli([
      'serve',
      '--port',
      '0',
      '--data',
      join(dir, 'never'),
      '--access-token-ttl',
      '2h',
    ]);
    assert.equal(tooLong.code, 1);
    assert.equal(
      tooLong.stderr,
      'gatehouse: --access-token-ttl: expected an access-token lifetime from 15m to 1h (900–3600 seconds), got 7200 seconds\n',
    );
    const malformed = await cli([
      'serve',
      '--port',
      '0',
      '--data',
      join(dir, 'never'),
      '--refresh-token-ttl',
      'a month',
    ]);
    assert.equal(malformed.code, 1);
    assert.match(malformed.stderr, /--refresh-token-ttl: expected a duration such as 15m, 1h or 30d/);
    assert.equal(existsSync(join(dir, 'never')), false);
  });
});

describe('gatehouse serve --config', () => {
  test('RFC 8414 §3: with an empty mcpServers, gatehouse serve starts and serves its metadata (and no demo)', async () => {
    const data = join(dir, 'empty');
    const file = await writeConfig('empty.json', {
      data,
      tokens: { accessTokenTtl: '20m' },
      registration: { enabled: false },
      mcpServers: {},
    });
    const server = await serve(['--config', file]);
    try {
      const metadata = (await (
        await fetch(`${server.issuer}/.well-known/oauth-authorization-server`)
      ).json()) as Record<string, unknown>;
      assert.equal(metadata.issuer, server.issuer);
      // registration.enabled false: no RFC 7591 endpoint advertised.
      assert.equal(metadata.registration_endpoint, undefined);
      assert.equal((await fetch(`${server.issuer}/mcp`, { method: 'POST' })).status, 404);
      assert.match(server.stdout(), new RegExp(`Configuration:\\s+${file}`));
    } finally {
      await server.stop();
    }
  });

  test('Configuration: gatehouse serve refuses a configuration file with problems, listing each', async () => {
    const file = await writeConfig('bad.json', { mcpServers: { files: { comand: 'node' } } });
    const result = await cli(['serve', '--port', '0', '--config', file]);
    assert.equal(result.code, 1);
    assert.match(
      result.stderr,
      /the configuration file has 2 problems:\n.*: mcpServers\.files\.comand: unknown key; did you mean "command"\?\n.*: mcpServers\.files: expected command \(a stdio server\) or url/,
    );
  });
});

describe('gatehouse serve --config: identity assertions', () => {
  test('No token passthrough: an identityAssertion upstream gets a JWT signed with the key in the JWKS, typed apart from access tokens (RFC 8725 §3.11)', async () => {
    // The upstream: a real MCP server (official SDK) over Streamable HTTP on loopback, whose
    // `headers` tool reports the identity and authorization headers it received.
    const handler = createMcpHandler(() => tinyUpstream());
    const http = createServer();
    const origin = await listen(http);
    http.on(
      'request',
      toNodeListener((request) => handler.fetch(request), origin),
    );
    const data = join(dir, 'identity');
    const file = await writeConfig('identity.json', {
      data,
      mcpServers: { remote: { url: `${origin}/mcp`, identityAssertion: true, timeoutMs: 10_000 } },
    });
    const robot = JSON.parse(
      (await cli(['clients', 'add', '--name', 'Robot', '--confidential', '--json', '--data', data])).stdout,
    ) as { client_id: string; client_secret: string };
    const server = await serve(['--config', file]);
    try {
      const resource = `${server.issuer}/mcp/remote`;
      const { access_token } = await tokenRequest(
        { issuer: server.issuer, clientId: robot.client_id, clientSecret: robot.client_secret },
        { grant_type: 'client_credentials', scope: 'tools:execute:remote', resource },
      );
      const client = new Client({ name: 'test', version: '1.0.0' });
      await client.connect(
        new StreamableHTTPClientTransport(new URL(resource), {
          requestInit: { headers: { authorization: `Bearer ${access_token}` } },
        }),
      );
      let seen: { identity: string | null; authorization: string | null };
      try {
        const result = (await client.callTool({ name: 'headers', arguments: {} })) as {
          content: { text: string }[];
        };
        seen = JSON.parse(result.content[0]?.text as string);
      } finally {
        await client.close();
      }
      assert.equal(seen.authorization, null);
      assert.ok(seen.identity);
      const jwks = await (await fetch(`${server.issuer}/.well-known/jwks.json`)).json();
      const { payload, protectedHeader } = await jwtVerify(seen.identity, createLocalJWKSet(jwks), {
        issuer: server.issuer,
        audience: `${origin}/mcp`,
        typ: 'gatehouse-identity+jwt',
      });
      assert.equal(payload.sub, robot.client_id);
      assert.equal(payload.scope, 'tools:execute:remote');
      // The access-token key signs it; its type keeps it from ever passing for an access token.
      assert.equal(protectedHeader.kid, decodeProtectedHeader(access_token).kid);
    } finally {
      await server.stop();
      await handler.close();
      await closeServer(http);
    }
  });
});

describe('gatehouse servers', () => {
  test('Configuration: gatehouse servers lists the configured servers when nothing is serving', async () => {
    const file = await writeConfig('listed.json', {
      data: join(dir, 'listed'),
      mcpServers: {
        files: { command: 'node', args: ['server.js'] },
        remote: { url: 'http://127.0.0.1:9/mcp' },
      },
    });
    const result = await cli(['servers', '--config', file]);
    assert.equal(result.code, 0, result.stderr);
    const lines = result.stdout.trimEnd().split('\n');
    assert.match(
      lines[0] as string,
      /^Gatehouse is not running from .*listed\. Configured in .*listed\.json:$/,
    );
    assert.match(lines[1] as string, /^ {2}NAME\s+URL\s+TRANSPORT\s+STATE\s+PROCESSES\s+LAST ERROR$/);
    assert.match(lines[2] as string, /^ {2}files\s+\/mcp\/files\s+stdio \(shared\)\s+stopped\s+0\s+-$/);
    assert.match(lines[3] as string, /^ {2}remote\s+\/mcp\/remote\s+http\s+stopped\s+0\s+-$/);
    const json = JSON.parse((await cli(['servers', '--config', file, '--json'])).stdout);
    assert.equal(json.running, false);
    assert.deepEqual(
      json.servers.map((s: { server: string }) => s.server),
      ['files', 'remote'],
    );
  });

  test('Configuration: gatehouse servers shows what a running gatehouse serve reports, and forgets it once stopped', async () => {
    const data = join(dir, 'running');
    // A stdio server starts on first use: listed with no process, never started by this test.
    const file = await writeConfig('running.json', {
      data,
      mcpServers: { files: { command: 'node', args: ['absent.js'] } },
    });
    const server = await serve(['--config', file]);
    try {
      await waitFor(() => (existsSync(join(data, 'servers.json')) ? true : undefined));
      const result = await cli(['servers', '--data', data]);
      assert.equal(result.code, 0, result.stderr);
      const [first, header, row] = result.stdout.trimEnd().split('\n');
      assert.match(
        first as string,
        new RegExp(`^Gatehouse is running at ${server.issuer} \\(pid \\d+, reported \\d+ s ago\\):$`),
      );
      assert.match(header as string, /NAME\s+URL\s+TRANSPORT/);
      assert.match(
        row as string,
        new RegExp(`^ {2}files\\s+${server.issuer}/mcp/files\\s+stdio \\(shared\\)\\s+idle\\s+0\\s+-$`),
      );
      const json = JSON.parse((await cli(['servers', '--data', data, '--json'])).stdout);
      assert.equal(json.running, true);
      assert.equal(json.issuer, server.issuer);
    } finally {
      await server.stop();
    }
    assert.equal(existsSync(join(data, 'servers.json')), false);
    const after = await cli(['servers', '--data', data, '--config', file]);
    assert.match(after.stdout, /^Gatehouse is not running/);
  });
});

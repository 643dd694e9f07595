// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the tests write ${env:NAME} and ${user} as users do
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { parseDuration } from './duration.ts';
import { ConfigError } from './errors.ts';
import { loadConfig, parseConfig } from './load.ts';

const dir = mkdtempSync(join(tmpdir(), 'gatehouse-config-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const parse = (raw: unknown, env: NodeJS.ProcessEnv = {}) =>
  parseConfig(raw, { file: 'gatehouse.json', env });

/** The problems `raw` has, as `path: message` lines. */
const problems = (raw: unknown, env: NodeJS.ProcessEnv = {}): string[] => {
  try {
    parse(raw, env);
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return err.issues.map((issue) => `${issue.path}: ${issue.message}`);
  }
  assert.fail('expected a ConfigError');
};

const stdio = { command: 'node', args: ['server.js'] };

describe('configuration file: schema', () => {
  test('Configuration: an unknown key is refused with its path and the key that was probably meant', () => {
    assert.deepEqual(problems({ mcpServers: { github: { comand: 'x', url: 'https://mcp.example/mcp' } } }), [
      'mcpServers.github.comand: unknown key; did you mean "command"?',
    ]);
    const [top] = problems({ listen: 8080 });
    assert.match(top as string, /^listen: unknown key; expected one of: issuer, host, port, .*mcpServers$/);
    assert.deepEqual(problems({ tokens: { accessTokenTTL: '15m' } }), [
      'tokens.accessTokenTTL: unknown key; did you mean "accessTokenTtl"?',
    ]);
  });

  test('Configuration: every problem is reported, each on its own with the key path and what is expected', () => {
    const error = (() => {
      try {
        parse({ port: 'eighty', mcpServers: { github: { url: 'http://mcp.example/mcp' }, Files: stdio } });
      } catch (err) {
        return err as ConfigError;
      }
    })();
    assert.ok(error instanceof ConfigError);
    assert.equal(error.path, 'port');
    assert.deepEqual(error.message.split('\n'), [
      'gatehouse.json: port: expected a port number',
      'gatehouse.json: mcpServers.github.url: expected an https or loopback URL (http only on 127.0.0.1, [::1] or localhost; no user info or fragment)',
      'gatehouse.json: mcpServers.Files: expected a server name of lower-case letters, digits and -, starting with a letter or digit, at most 63 characters',
    ]);
  });

  test('Configuration: a server is stdio (command) or Streamable HTTP (url), and keys of the other kind are refused', () => {
    assert.deepEqual(problems({ mcpServers: { a: {} } }), [
      'mcpServers.a: expected command (a stdio server) or url (a Streamable HTTP server)',
    ]);
    assert.deepEqual(problems({ mcpServers: { a: { ...stdio, url: 'https://mcp.example/' } } }), [
      'mcpServers.a: expected either command (stdio) or url (Streamable HTTP), not both',
    ]);
    assert.deepEqual(problems({ mcpServers: { a: { ...stdio, headers: { 'x-api-key': 'k' } } } }), [
      'mcpServers.a.headers: applies to Streamable HTTP (url) servers only',
    ]);
    assert.deepEqual(
      problems({ mcpServers: { a: { url: 'https://mcp.example/', process: { mode: 'per-user' } } } }),
      ['mcpServers.a.process: applies to stdio (command) servers only'],
    );
  });

  test('Configuration: upstream URLs are https, or http on a loopback address only', () => {
    for (const url of [
      'https://mcp.example/mcp',
      'http://127.0.0.1:3001/mcp',
      'http://localhost:3001/mcp',
      'http://[::1]/mcp',
    ])
      assert.equal(parse({ mcpServers: { a: { url } } }).mcpServers?.a?.url, url);
    for (const url of [
      'http://mcp.example/mcp',
      'ftp://127.0.0.1/',
      'not a url',
      'https://user:pw@mcp.example/',
    ])
      assert.equal(problems({ mcpServers: { a: { url } } }).length, 1, url);
  });

  test('Configuration: headers the MCP transport sets itself cannot be configured; values cannot break lines', () => {
    assert.deepEqual(
      problems({
        mcpServers: {
          a: { url: 'https://mcp.example/', headers: { 'Mcp-Session-Id': 'x', 'X-Key': 'a\r\nb' } },
        },
      }),
      [
        'mcpServers.a.headers.Mcp-Session-Id: is set by the MCP transport and cannot be configured',
        'mcpServers.a.headers.X-Key: expected a header value without line breaks or NUL',
      ],
    );
  });

  test('Configuration: server names become paths and scope names: lower-case letters, digits and -', () => {
    assert.deepEqual(
      Object.keys(parse({ mcpServers: { filesystem: stdio, 'db-2': stdio } }).mcpServers ?? {}),
      ['filesystem', 'db-2'],
    );
    for (const name of ['-a', 'a/b', 'A', 'a'.repeat(64), '', '__proto__'])
      assert.equal(
        problems({ mcpServers: JSON.parse(`{${JSON.stringify(name)}: ${JSON.stringify(stdio)}}`) }).length,
        1,
        name,
      );
  });

  test('Configuration: a per-tool scope must be one scope under tools:execute', () => {
    const config = parse({
      mcpServers: { github: { ...stdio, tools: { create_issue: { scope: 'tools:execute:github:write' } } } },
    });
    assert.equal(config.mcpServers?.github?.tools?.create_issue?.scope, 'tools:execute:github:write');
    assert.deepEqual(
      problems({
        mcpServers: {
          github: { ...stdio, tools: { a: { scope: 'admin' }, b: { scope: 'tools:execute:x y' } } },
        },
      }),
      [
        'mcpServers.github.tools.a.scope: expected a scope under tools:execute, e.g. tools:execute:github:read',
        'mcpServers.github.tools.b.scope: expected one scope (RFC 6749 §3.3 characters, no spaces)',
      ],
    );
  });

  test('Configuration: tool and variable names are data, never Object.prototype properties', () => {
    const raw = JSON.parse(
      `{"mcpServers": {"a": {"command": "x", "env": {"constructor": "c"}, "tools": {"toString": {"scope": "tools:execute:a:s"}}}}}`,
    );
    const server = parse(raw).mcpServers?.a;
    assert.equal(Object.getPrototypeOf(server?.env), null);
    assert.deepEqual(Object.entries(server?.env ?? {}), [['constructor', 'c']]);
    assert.equal(Object.getPrototypeOf(server?.tools), null);
    assert.equal(server?.tools?.hasOwnProperty, undefined);
    assert.deepEqual(Object.keys(server?.tools ?? {}), ['toString']);
  });

  test('Configuration: a __proto__ key is refused rather than silently dropped', () => {
    const raw = JSON.parse(
      `{"mcpServers": {"a": {"command": "x", "env": {"__proto__": "p"}}}, "__proto__": {}}`,
    );
    assert.deepEqual(problems(raw), [
      'mcpServers.a.env.__proto__: is not allowed as a key',
      '__proto__: is not allowed as a key',
    ]);
  });

  test('Configuration: ${user} outside a per-user process is refused (it would reach the upstream as is)', () => {
    assert.deepEqual(problems({ mcpServers: { fs: { command: 'x', args: ['--root', '/srv/${user}'] } } }), [
      'mcpServers.fs.args[1]: ${user} needs "process": { "mode": "per-user" }',
    ]);
    const config = parse({
      mcpServers: { fs: { command: 'x', args: ['/srv/${user}'], process: { mode: 'per-user' } } },
    });
    assert.deepEqual(config.mcpServers?.fs?.args, ['/srv/${user}']);
  });

  test('Configuration: connections hold their client secret only by ${env:NAME}; a server names an existing one, and a stdio one runs per user with the token variable set', () => {
    const github = {
      authorizationEndpoint: 'https://github.com/login/oauth/authorize',
      tokenEndpoint: 'https://github.com/login/oauth/access_token',
      clientId: 'Ov23li',
      clientSecret: '${env:TEST_GITHUB_SECRET}',
      scopes: ['repo', 'read:org'],
      env: 'GITHUB_TOKEN',
    };
    const config = parse(
      {
        connections: { github },
        mcpServers: {
          remote: { url: 'https://mcp.example/mcp', connection: 'github' },
          local: { command: 'x', process: { mode: 'per-user' }, connection: 'github' },
        },
      },
      { TEST_GITHUB_SECRET: 's3cret' },
    );
    assert.equal(config.connections?.github?.clientSecret, 's3cret');
    assert.equal(config.mcpServers?.local?.connection, 'github');
    assert.deepEqual(problems({ connections: { github: { ...github, clientSecret: 's3cret' } } }), [
      'connections.github.clientSecret: expected an ${env:NAME} reference, not the secret itself',
    ]);
    const { env: _env, ...withoutEnv } = github;
    assert.deepEqual(
      problems(
        {
          connections: { github: withoutEnv },
          mcpServers: {
            a: { url: 'https://mcp.example/mcp', connection: 'gitlab' },
            b: { command: 'x', connection: 'github' },
            c: { command: 'x', process: { mode: 'per-user' }, connection: 'github' },
          },
        },
        { TEST_GITHUB_SECRET: 's3cret' },
      ).sort(),
      [
        'mcpServers.a.connection: expected the id of an entry of connections',
        'mcpServers.b.connection: needs connections.github.env (the variable the stdio server reads the token from)',
        'mcpServers.b.connection: on a stdio server needs "process": { "mode": "per-user" }',
        'mcpServers.c.connection: needs connections.github.env (the variable the stdio server reads the token from)',
      ],
    );
  });

  test('Configuration: challengeScopes is "all" or a non-empty list of scopes; consent lists scopes', () => {
    assert.deepEqual(
      parse({ mcpServers: { a: { ...stdio, challengeScopes: ['tools:list'] } } }).mcpServers?.a
        ?.challengeScopes,
      ['tools:list'],
    );
    assert.equal(
      parse({ mcpServers: { a: { ...stdio, challengeScopes: 'all' } } }).mcpServers?.a?.challengeScopes,
      'all',
    );
    assert.equal(problems({ mcpServers: { a: { ...stdio, challengeScopes: [] } } }).length, 1);
    assert.deepEqual(parse({ consent: { required: ['tools:list'] } }).consent, { required: ['tools:list'] });
  });
});

describe('configuration file: ${env:NAME} references', () => {
  test('Configuration: secrets come from the environment by reference in headers, env, args, url and store', () => {
    const env = { GITHUB_TOKEN: 'ghp_secret', PORT_NO: '3001', DB: 'postgres://u:pw@127.0.0.1/db' };
    const config = parse(
      {
        store: '${env:DB}',
        mcpServers: {
          github: {
            url: 'http://127.0.0.1:${env:PORT_NO}/mcp',
            headers: { Authorization: 'Bearer ${env:GITHUB_TOKEN}' },
          },
          fs: { command: 'x', args: ['--token=${env:GITHUB_TOKEN}'], env: { TOKEN: '${env:GITHUB_TOKEN}' } },
        },
      },
      env,
    );
    assert.equal(config.store, 'postgres://u:pw@127.0.0.1/db');
    assert.equal(config.mcpServers?.github?.url, 'http://127.0.0.1:3001/mcp');
    assert.equal(config.mcpServers?.github?.headers?.Authorization, 'Bearer ghp_secret');
    assert.deepEqual(config.mcpServers?.fs?.args, ['--token=ghp_secret']);
    assert.equal(config.mcpServers?.fs?.env?.TOKEN, 'ghp_secret');
  });

  test('Configuration: a reference to an unset or empty variable is an error naming the key path', () => {
    assert.deepEqual(
      problems(
        {
          mcpServers: {
            github: { url: 'https://mcp.example/', headers: { Authorization: 'Bearer ${env:GITHUB_TOKEN}' } },
          },
        },
        { GITHUB_TOKEN: '' },
      ),
      [
        'mcpServers.github.headers.Authorization: refers to the environment variable GITHUB_TOKEN, which is not set',
      ],
    );
    assert.deepEqual(problems({ mcpServers: { a: { command: '${env:bad-name}' } } }), [
      'mcpServers.a.command: expected ${env:NAME} with NAME made of letters, digits and _',
    ]);
  });

  test('Configuration: a value from the environment is never quoted in an error', () => {
    const error = (() => {
      try {
        parse({ mcpServers: { a: { url: '${env:URL}' } } }, { URL: 'http://secret-token@mcp.example/' });
      } catch (err) {
        return err as Error;
      }
    })();
    assert.ok(error instanceof ConfigError);
    assert.doesNotMatch(error.message, /secret-token/);
  });

  test('Configuration: references are replaced only where secrets belong; titles and scopes stay as written', () => {
    const config = parse({ mcpServers: { a: { ...stdio, title: 'Costs ${env:X}' } } });
    assert.equal(config.mcpServers?.a?.title, 'Costs ${env:X}');
  });
});

describe('configuration file: durations', () => {
  test('Configuration: durations are whole seconds or 15m, 1h, 30d', () => {
    assert.equal(parseDuration('15m'), 900);
    assert.equal(parseDuration('1h'), 3600);
    assert.equal(parseDuration('30d'), 2_592_000);
    assert.equal(parseDuration('90s'), 90);
    assert.equal(parseDuration('1200'), 1200);
    assert.equal(parseDuration(3600), 3600);
    for (const bad of ['0m', '1.5h', '10x', '-5', '', ' 15m', '15 m', '1e3'] as const)
      assert.equal(parseDuration(bad), undefined, bad);
    for (const bad of [0, -1, 1.5, Number.NaN]) assert.equal(parseDuration(bad), undefined, String(bad));
  });

  test('Configuration: token lifetimes are read in seconds; the access token lives 15 min to 1 h', () => {
    assert.deepEqual(
      parse({ tokens: { accessTokenTtl: '15m', refreshTokenTtl: '30d', refreshTokenIdleTtl: 1209600 } })
        .tokens,
      {
        accessTokenTtl: 900,
        refreshTokenTtl: 2_592_000,
        refreshTokenIdleTtl: 1_209_600,
      },
    );
    assert.deepEqual(problems({ tokens: { accessTokenTtl: '2h' } }), [
      'tokens.accessTokenTtl: expected an access-token lifetime from 15m to 1h',
    ]);
    assert.deepEqual(problems({ tokens: { refreshTokenTtl: 'a month' } }), [
      'tokens.refreshTokenTtl: expected a duration such as 15m, 1h or 30d (or whole seconds)',
    ]);
  });
});

describe('configuration file: loading', () => {
  test('Configuration: a missing file and invalid JSON are errors naming the file, never quoting its text', () => {
    const missing = join(dir, 'missing.json');
    assert.throws(() => loadConfig(missing), { name: 'ConfigError', message: `${missing}: no such file` });
    const file = join(dir, 'broken.json');
    writeFileSync(file, '{\n  "store": "postgres://u:hunter2@db/x"\n  "port": 1\n}\n');
    assert.throws(
      () => loadConfig(file),
      (err: Error) => {
        assert.match(err.message, /: expected JSON; the text is not valid JSON at line 3 column 3$/);
        assert.doesNotMatch(err.message, /hunter2/);
        return true;
      },
    );
    writeFileSync(file, '[]');
    assert.throws(() => loadConfig(file), {
      message: `${file}: expected a JSON object ({ … }) at the top level`,
    });
  });

  test('Configuration: relative data and cwd paths are relative to the file, wherever gatehouse starts', () => {
    const file = join(dir, 'gatehouse.json');
    writeFileSync(
      file,
      JSON.stringify({
        data: 'state',
        mcpServers: { a: { command: 'x', cwd: 'work' }, b: { command: 'x', cwd: '/srv' } },
      }),
    );
    const config = loadConfig(file, {});
    assert.equal(config.data, join(dir, 'state'));
    assert.equal(config.mcpServers?.a?.cwd, join(dir, 'work'));
    assert.equal(config.mcpServers?.b?.cwd, '/srv');
  });
});

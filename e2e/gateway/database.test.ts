import assert from 'node:assert/strict';
import { test } from 'node:test';
import { withTestDatabase } from '../../packages/store-postgres/src/testing.ts';
import { gatewayScene, rawToolCall, text } from './scene.ts';
import { POSTGRES_SERVER } from './upstreams.ts';

/**
 * A database MCP server from npm (@henkey/postgres-mcp-server, stdio) against the machine's
 * PostgreSQL, behind the gateway: its reads under a narrower scope by a per-tool override, its
 * writes under the server's scope. The connection string reaches the upstream by reference
 * (`${env:NAME}`), never inline in the file; the tables live in a schema of this run's own.
 */
await withTestDatabase((db) => {
  const schema = db.newSchema();
  // pg reads `options` from the URL: every statement of the upstream runs in this run's schema.
  const upstreamUrl = `${db.url}?options=${encodeURIComponent(`-c search_path=${schema}`)}`;
  const scene = gatewayScene({
    users: ['dora'],
    env: { GATEHOUSE_E2E_DATABASE_URL: upstreamUrl },
    async config() {
      await db.admin.query(`CREATE SCHEMA ${schema}`);
      await db.admin.query(`CREATE TABLE ${schema}.notes (id int PRIMARY KEY, body text NOT NULL)`);
      await db.admin.query(`INSERT INTO ${schema}.notes VALUES (1, 'first note')`);
      return {
        mcpServers: {
          database: {
            command: process.execPath,
            args: [POSTGRES_SERVER],
            // biome-ignore lint/suspicious/noTemplateCurlyInString: a configuration-file reference, not a template
            env: { POSTGRES_CONNECTION_STRING: '${env:GATEHOUSE_E2E_DATABASE_URL}' },
            title: 'Team database',
            tools: { pg_execute_query: { scope: 'tools:execute:database:read' } },
          },
        },
      };
    },
  });

  test('per-tool scope override: tools:execute:database:read lists and runs only pg_execute_query against PostgreSQL; pg_execute_mutation gets 403 naming tools:execute:database, and after step-up the row is in the database', async () => {
    const readOnly = await scene.token('dora', 'database', 'tools:list tools:execute:database:read');
    const refused = await rawToolCall(scene.url('database'), readOnly, 'pg_execute_mutation', {
      operation: 'delete',
      table: 'notes',
      schema,
      where: 'id = 1',
    });
    assert.equal(refused.status, 403);
    assert.match(refused.headers.get('www-authenticate') ?? '', /error="insufficient_scope"/);
    assert.match(
      refused.headers.get('www-authenticate') ?? '',
      /scope="[^"]*\btools:execute:database\b(?!:)/,
    );

    const { oauth, mcp } = await scene.connect('dora', 'database', 'tools:list tools:execute:database:read');
    try {
      assert.deepEqual(
        (await mcp.listTools()).tools.map((t) => t.name),
        ['pg_execute_query'],
      );
      const read = await mcp.callTool({
        name: 'pg_execute_query',
        arguments: { operation: 'select', query: 'SELECT body FROM notes ORDER BY id' },
      });
      assert.match(text(read), /first note/);

      const written = await mcp.callTool({
        name: 'pg_execute_mutation',
        arguments: {
          operation: 'insert',
          table: 'notes',
          schema,
          data: { id: 2, body: 'through the gateway' },
        },
      });
      assert.notEqual(written.isError, true, text(written));
      assert.match((await oauth.storedTokens())?.scope ?? '', /\btools:execute:database\b(?!:)/);
      const { rows } = await db.admin.query(`SELECT id, body FROM ${schema}.notes ORDER BY id`);
      // Row 1 survived the refused DELETE; row 2 is the write after step-up.
      assert.deepEqual(rows, [
        { id: 1, body: 'first note' },
        { id: 2, body: 'through the gateway' },
      ]);
    } finally {
      await mcp.close();
    }
  });
});

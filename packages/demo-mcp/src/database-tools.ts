import type { McpServer } from '@modelcontextprotocol/server';
import { z } from 'zod';
import type { DemoDatabase } from './database.ts';
import { guarded, UserError } from './filesystem-tools.ts';

/** Registers `query` (read-only SQL) and `execute` (INSERT/UPDATE/DELETE) on the demo database. */
export function registerDatabaseTools(
  server: McpServer,
  db: DemoDatabase,
  allowed: (tool: string) => boolean,
  onChange: (tables: string[]) => void,
) {
  if (allowed('query')) {
    server.registerTool(
      'query',
      {
        description: 'Run a read-only SQL query (SELECT) on the demo database; returns JSON rows.',
        inputSchema: z.object({ sql: z.string().min(1).max(10_000) }),
        annotations: { readOnlyHint: true },
      },
      async ({ sql }) =>
        guarded(async () =>
          JSON.stringify(
            sqlSafe(() => db.query(sql)),
            null,
            2,
          ),
        ),
    );
  }
  if (allowed('execute')) {
    server.registerTool(
      'execute',
      {
        description: 'Run one INSERT, UPDATE or DELETE statement on the demo database.',
        inputSchema: z.object({ sql: z.string().min(1).max(10_000) }),
        annotations: { destructiveHint: true },
      },
      async ({ sql }) =>
        guarded(async () => {
          const { changes, tables } = sqlSafe(() => db.execute(sql));
          onChange(tables);
          return `${changes} row(s) changed.`;
        }),
    );
  }
}

/** SQLite's own messages (syntax errors, "not authorized") are safe and useful to show. */
function sqlSafe<T>(run: () => T): T {
  try {
    return run();
  } catch (err) {
    throw new UserError(`SQL error: ${(err as Error).message}`);
  }
}

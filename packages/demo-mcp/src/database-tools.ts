import type { McpServer } from '@modelcontextprotocol/server';
import { z } from 'zod';
import type { DemoDatabase } from './database.ts';
import { guarded, UserError } from './filesystem-tools.ts';
import { SqlError } from './sql-error.ts';

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
      async ({ sql }) => guarded(async () => JSON.stringify(await shown(db.query(sql)), null, 2)),
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
          const { changes, tables } = await shown(db.execute(sql));
          onChange(tables);
          return `${changes} row(s) changed.`;
        }),
    );
  }
}

/** A refusal, SQLite's own message or a timeout is safe and useful to show; anything else is not. */
async function shown<T>(result: Promise<T>): Promise<T> {
  try {
    return await result;
  } catch (err) {
    throw err instanceof SqlError ? new UserError(err.message) : err;
  }
}

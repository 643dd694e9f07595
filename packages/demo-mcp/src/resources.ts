import { type McpServer, ResourceTemplate } from '@modelcontextprotocol/server';
import type { DemoDatabase } from './database.ts';

export const tableUri = (table: string) => `demo://tables/${table}`;

/** Each table is a readable, subscribable resource `demo://tables/{table}` with its rows as JSON. */
export function registerTableResources(server: McpServer, db: DemoDatabase) {
  server.registerResource(
    'table',
    new ResourceTemplate('demo://tables/{table}', {
      list: async () => ({
        resources: (await db.tables()).map((t) => ({
          uri: tableUri(t),
          name: t,
          mimeType: 'application/json',
        })),
      }),
      complete: { table: async (prefix) => (await db.tables()).filter((t) => t.startsWith(prefix)) },
    }),
    { description: 'The rows of a table of the demo database', mimeType: 'application/json' },
    async (uri, { table }) => ({
      contents: [
        {
          uri: uri.href,
          mimeType: 'application/json',
          text: JSON.stringify(await db.rows(String(table)), null, 2),
        },
      ],
    }),
  );
}

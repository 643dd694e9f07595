import type { McpServer } from '@modelcontextprotocol/server';
import { z } from 'zod';
import type { DemoDatabase } from './database.ts';
import { tableUri } from './resources.ts';

/** Two prompts: one embeds a table's rows, one asks for a review of a sandbox file. */
export function registerPrompts(server: McpServer, db: DemoDatabase, allowed: (prompt: string) => boolean) {
  if (allowed('summarize_table')) {
    server.registerPrompt(
      'summarize_table',
      {
        description: 'Summarize the contents of a table of the demo database.',
        argsSchema: z.object({ table: z.string().describe('Table name, e.g. notes') }),
      },
      async ({ table }) => ({
        messages: [
          { role: 'user', content: { type: 'text', text: `Summarize the rows of the table "${table}".` } },
          {
            role: 'user',
            content: {
              type: 'resource',
              resource: {
                uri: tableUri(table),
                mimeType: 'application/json',
                text: JSON.stringify(await db.rows(table)),
              },
            },
          },
        ],
      }),
    );
  }
  if (allowed('review_file')) {
    server.registerPrompt(
      'review_file',
      {
        description: 'Ask for a careful review of a file in the sandbox (read it with read_file).',
        argsSchema: z.object({ path: z.string() }),
      },
      async ({ path }) => ({
        messages: [
          {
            role: 'user',
            content: {
              type: 'text',
              text: `Read ${path} with the read_file tool and review it: bugs, risks, clarity.`,
            },
          },
        ],
      }),
    );
  }
}

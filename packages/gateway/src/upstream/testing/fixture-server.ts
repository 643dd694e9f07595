/**
 * A small MCP server written with the official SDK v2 server package, the upstream of the pool's
 * tests. Run as a process it serves stdio (`node fixture-server.ts --label NAME`); imported, it
 * gives the same tools for a Streamable HTTP test server.
 *
 * Tools: `whoami` (label, pid, working folder, environment names and selected values), `slow`
 * (answers after `ms`, or never), `crash` (the process exits mid-call), `ask_client` (sends the
 * client a server-to-client request and reports how it was answered). With `--linger` the process
 * outlives the end of its stdin.
 */
import process from 'node:process';
import { pathToFileURL } from 'node:url';
import { McpServer } from '@modelcontextprotocol/server';
import { StdioServerTransport } from '@modelcontextprotocol/server/stdio';
import { z } from 'zod';

export function createFixtureServer(label: string): McpServer {
  const server = new McpServer({ name: 'gatehouse-upstream-fixture', version: '1.0.0' });
  server.registerTool('whoami', { description: 'Who runs this process.' }, async () =>
    text({
      label,
      pid: process.pid,
      cwd: process.cwd(),
      envNames: Object.keys(process.env).sort(),
      FIXTURE_USER: process.env.FIXTURE_USER ?? null,
    }),
  );
  server.registerTool(
    'slow',
    {
      description: 'Answers after ms milliseconds, or never.',
      inputSchema: z.object({ ms: z.number().optional() }),
    },
    async ({ ms }, ctx) => {
      await new Promise<void>((resolve) => {
        if (ms !== undefined) setTimeout(resolve, ms);
        ctx.mcpReq.signal.addEventListener('abort', () => resolve(), { once: true });
      });
      return text({ waited: ms ?? null, cancelled: ctx.mcpReq.signal.aborted });
    },
  );
  server.registerTool('crash', { description: 'Exits mid-call.' }, async () => {
    process.stderr.write('fixture: crashing on purpose\n');
    process.exit(3);
  });
  server.registerTool(
    'ask_client',
    {
      description: 'Sends the client a request the client must answer.',
      inputSchema: z.object({ method: z.string() }),
    },
    async ({ method }, ctx) => {
      try {
        await ctx.mcpReq.send({ method: method as 'roots/list', params: {} });
        return text({ answered: true });
      } catch (error) {
        const e = error as { code?: number; message?: string };
        return text({ answered: false, code: e.code ?? null, message: e.message ?? String(error) });
      }
    },
  );
  return server;
}

function text(value: unknown) {
  return { content: [{ type: 'text' as const, text: JSON.stringify(value) }] };
}

/** Runs as a stdio server when started as a process. */
async function main() {
  const at = process.argv.indexOf('--label');
  const label = at === -1 ? 'fixture' : (process.argv[at + 1] ?? 'fixture');
  const server = createFixtureServer(label);
  await server.connect(new StdioServerTransport());
  // `--linger`: outlive the end of stdin, as some servers do, so only a kill stops the process.
  if (process.argv.includes('--linger')) setInterval(() => {}, 1 << 30);
  process.stderr.write(`fixture ${label} ready\n`);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) await main();

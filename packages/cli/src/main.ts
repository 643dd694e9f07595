#!/usr/bin/env node
import { UsageError } from './output.ts';

const HELP = `gatehouse: OAuth 2.1 authorization for MCP servers

Server:
  gatehouse serve [--port 8080] [--host 127.0.0.1] [--data ./.gatehouse] [--issuer URL] [--store postgres://…] [--trust-proxy]

Administration (each takes --data DIR, and --store postgres://… when the servers use PostgreSQL):
  gatehouse users add NAME --password-stdin | list | disable NAME | enable NAME | remove NAME
  gatehouse clients add --name NAME --redirect-uri URI [--confidential] [--scope "…"] [--json]
  gatehouse clients list | remove CLIENT_ID
  gatehouse grants list [--user NAME] [--client CLIENT_ID] [--all] [--json] | revoke GRANT_ID
  gatehouse audit tail [-n 20] [--json] [--follow]
  gatehouse keys list [--json] | rotate

MCP client:
  gatehouse login <mcp-url> | tools <mcp-url> | call <mcp-url> <tool> [json] | logout <mcp-url> | tokens
`;

type Command = { run(args: string[]): Promise<number> };

/** Each verb lives in its own module, loaded only when used. */
const commands: Record<string, () => Promise<Command>> = {
  serve: () => import('./commands/serve.ts'),
  users: () => import('./commands/users.ts'),
  clients: () => import('./commands/clients.ts'),
  grants: () => import('./commands/grants.ts'),
  audit: () => import('./commands/audit.ts'),
  keys: () => import('./commands/keys.ts'),
  login: () => import('./commands/login.ts'),
  tools: () => import('./commands/tools.ts'),
  call: () => import('./commands/call.ts'),
  logout: () => import('./commands/logout.ts'),
  tokens: () => import('./commands/tokens.ts'),
};

async function main(argv: string[]): Promise<number> {
  const [verb, ...rest] = argv;
  if (!verb || verb === 'help' || verb === '--help' || verb === '-h') {
    process.stdout.write(HELP);
    return verb ? 0 : 1;
  }
  const load = commands[verb];
  if (!load) {
    process.stderr.write(`gatehouse: unknown command "${verb}".\n\n${HELP}`);
    return 1;
  }
  return (await load()).run(rest);
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (err) {
  // Errors the user can act on print as one line; anything else without a stack trace.
  const message =
    err instanceof UsageError ||
    (err instanceof Error && 'code' in err && String(err.code).startsWith('ERR_PARSE_ARGS'))
      ? err.message
      : `unexpected error: ${(err as Error)?.message ?? String(err)}`;
  process.stderr.write(`gatehouse: ${message}\n`);
  process.exitCode = 1;
}

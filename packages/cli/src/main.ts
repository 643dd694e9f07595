#!/usr/bin/env node
import { UsageError } from './output.ts';

/** The overview; each command's own usage is its module's USAGE, printed by `gatehouse <command> --help`. */
const HELP = `gatehouse: OAuth 2.1 authorization for MCP servers

Usage: gatehouse <command> [options]
       gatehouse <command> --help     the command's usage and options

Server:
  serve     run the authorization server and the MCP servers it protects
            (those of gatehouse.json, or the demo)
  config    check a configuration file without starting anything
  servers   list the protected MCP servers: state, processes, last error

Administration (on the data folder, or the PostgreSQL store, that the servers use):
  users     add | list | disable | enable | remove the accounts that sign in
  clients   add | list | remove pre-registered clients
  grants    list | revoke what users allowed applications
  audit     tail the audit log
  keys      list | rotate the access-token signing keys
  connections  list | remove users' connections to upstream APIs (never token values)

MCP client:
  login     sign in to an MCP server and keep its tokens
  tools     list an MCP server's tools (signing in first if needed)
  call      call one tool and print its result
  logout    revoke and forget the tokens for an MCP server
  tokens    list the stored tokens (never their values)
`;

/** What every command module exports: its usage, which `--help` prints, and its entry point. */
type Command = { USAGE: string; run(args: string[]): Promise<number> };

/** Each verb lives in its own module, loaded only when used. A Map: the verb is user input. */
const commands = new Map<string, () => Promise<Command>>([
  ['serve', () => import('./commands/serve.ts')],
  ['config', () => import('./commands/config.ts')],
  ['servers', () => import('./commands/servers.ts')],
  ['users', () => import('./commands/users.ts')],
  ['clients', () => import('./commands/clients.ts')],
  ['grants', () => import('./commands/grants.ts')],
  ['audit', () => import('./commands/audit.ts')],
  ['keys', () => import('./commands/keys.ts')],
  ['connections', () => import('./commands/connections.ts')],
  ['login', () => import('./commands/login.ts')],
  ['tools', () => import('./commands/tools.ts')],
  ['call', () => import('./commands/call.ts')],
  ['logout', () => import('./commands/logout.ts')],
  ['tokens', () => import('./commands/tokens.ts')],
]);

const isHelp = (arg: string | undefined) => arg === '--help' || arg === '-h';

/**
 * `--help` or `-h` anywhere among a command's arguments (`users add --help` too) asks for its
 * usage instead of running it; after `--` they are operands, not options.
 */
function asksForHelp(args: string[]): boolean {
  for (const arg of args) {
    if (arg === '--') return false;
    if (isHelp(arg)) return true;
  }
  return false;
}

async function main(argv: string[]): Promise<number> {
  const [first, ...rest] = argv;
  // `gatehouse help serve` and `gatehouse --help serve` mean `gatehouse serve --help`.
  const help = first === 'help' || isHelp(first);
  const verb = help ? rest.shift() : first;
  if (!verb) {
    process.stdout.write(HELP);
    return first ? 0 : 1;
  }
  const load = commands.get(verb);
  if (!load) {
    process.stderr.write(`gatehouse: unknown command "${verb}".\n\n${HELP}`);
    return 1;
  }
  const command = await load();
  if (help || asksForHelp(rest)) {
    process.stdout.write(`${command.USAGE}\n`);
    return 0;
  }
  return command.run(rest);
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

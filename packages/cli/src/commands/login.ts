import { cliOAuthClient, describeError } from '@gatehouse/client';

export const USAGE = `Usage: gatehouse login <mcp-url>

Signs in to an MCP server: discovers its authorization server, registers, opens your browser to
sign in and approve, and keeps the tokens, encrypted, in your config folder.`;

/** `gatehouse login <mcp-url>`: discovery, registration and the browser authorization, then store the tokens. */
export async function run(args: string[]): Promise<number> {
  const url = args[0];
  if (!url) {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  try {
    const tokens = await cliOAuthClient(url).authorize();
    process.stdout.write(
      `Logged in to ${tokens.resource} via ${tokens.issuer}${tokens.scope ? ` (scope: ${tokens.scope})` : ''}\n`,
    );
    return 0;
  } catch (err) {
    process.stderr.write(`login failed: ${describeError(err)}\n`);
    return 1;
  }
}

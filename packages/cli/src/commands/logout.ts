import { cliOAuthClient, describeError } from '@gatehouse/client';

export const USAGE = `Usage: gatehouse logout <mcp-url>

Revokes the stored refresh token where the authorization server allows it, and forgets the
tokens kept for this MCP server.`;

/** `gatehouse logout <mcp-url>`: revoke the refresh token where possible and forget the tokens. */
export async function run(args: string[]): Promise<number> {
  const url = args[0];
  if (!url) {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  try {
    const removed = await cliOAuthClient(url).logout();
    process.stdout.write(removed ? `Logged out of ${url}\n` : `No stored login for ${url}\n`);
    return 0;
  } catch (err) {
    process.stderr.write(`logout failed: ${describeError(err)}\n`);
    return 1;
  }
}

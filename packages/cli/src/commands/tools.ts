import { cliOAuthClient, connectMcp, describeError } from '@gatehouse/client';

export const USAGE = `Usage: gatehouse tools <mcp-url>

Lists the MCP server's tools, signing in first (as gatehouse login does) if needed.`;

/** `gatehouse tools <mcp-url>`: list the server's tools, logging in first if needed. */
export async function run(args: string[]): Promise<number> {
  const url = args[0];
  if (!url) {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  try {
    const mcp = await connectMcp(cliOAuthClient(url));
    try {
      const { tools } = await mcp.listTools();
      for (const tool of tools)
        process.stdout.write(`${tool.name}${tool.description ? `  ${tool.description}` : ''}\n`);
    } finally {
      await mcp.close();
    }
    return 0;
  } catch (err) {
    process.stderr.write(`tools failed: ${describeError(err)}\n`);
    return 1;
  }
}

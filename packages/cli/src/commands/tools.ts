import { cliOAuthClient, connectMcp, describeError } from '@gatehouse/client';

/** `gatehouse tools <mcp-url>`: list the server's tools, logging in first if needed. */
export async function run(args: string[]): Promise<number> {
  const url = args[0];
  if (!url) {
    process.stderr.write('usage: gatehouse tools <mcp-url>\n');
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

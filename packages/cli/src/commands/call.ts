import { cliOAuthClient, connectMcp, describeError } from '@gatehouse/client';

export const USAGE = `Usage: gatehouse call <mcp-url> <tool> [json-arguments]

Calls one tool, signing in first if needed, and prints its result as JSON. The arguments are a
JSON object, e.g. '{"path":"."}'. Exits 1 when the tool reports an error.`;

/** `gatehouse call <mcp-url> <tool> [json-arguments]`: call one tool and print its result as JSON. */
export async function run(args: string[]): Promise<number> {
  const [url, name, json] = args;
  if (!url || !name) {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  let toolArguments: Record<string, unknown> = {};
  if (json) {
    try {
      toolArguments = JSON.parse(json) as Record<string, unknown>;
    } catch {
      process.stderr.write('json-arguments must be a JSON object\n');
      return 2;
    }
    if (typeof toolArguments !== 'object' || toolArguments === null || Array.isArray(toolArguments)) {
      process.stderr.write('json-arguments must be a JSON object\n');
      return 2;
    }
  }
  try {
    const mcp = await connectMcp(cliOAuthClient(url));
    try {
      const result = await mcp.callTool({ name, arguments: toolArguments });
      process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
      return result.isError ? 1 : 0;
    } finally {
      await mcp.close();
    }
  } catch (err) {
    process.stderr.write(`call failed: ${describeError(err)}\n`);
    return 1;
  }
}

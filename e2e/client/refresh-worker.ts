/**
 * One OS process of the shared-store test: an OAuthClient on the same FileTokenStore as its
 * sibling, with its clock moved past the access token's expiry. It prints "ready", waits for "go"
 * on stdin (so both processes start together), makes concurrent tool calls, and prints a JSON
 * line with how many refresh requests it sent and how many calls succeeded.
 *
 * argv: <mcp-url> <store-path> <key-path> <clock-offset-ms> <calls>
 */
import { connectMcp, FileTokenStore, OAuthClient } from '@gatehouse/client';
import { countingFetch } from './helpers.ts';

const [mcpUrl, path, keyPath, offset, calls] = process.argv.slice(2) as [
  string,
  string,
  string,
  string,
  string,
];
const counter = countingFetch();
const client = new OAuthClient({
  resource: mcpUrl,
  store: new FileTokenStore({ path, keyPath }),
  fetch: counter.fetch,
  now: () => Date.now() + Number(offset),
  // No interaction: a process that found no usable tokens would fail rather than log in.
});

process.stdout.write('ready\n');
await new Promise<void>((resolve) => process.stdin.once('data', () => resolve()));
const mcp = await connectMcp(client);
const results = await Promise.all(
  Array.from({ length: Number(calls) }, () => mcp.callTool({ name: 'list_files', arguments: { path: '.' } })),
);
await mcp.close();
process.stdout.write(
  `${JSON.stringify({ refreshes: counter.refreshes(), ok: results.filter((r) => !r.isError).length })}\n`,
);
process.stdin.destroy();

/**
 * A gateway process that starts one upstream and then exits without closing the pool, as a
 * crashing or killed-by-signal gateway would. Prints the upstream's pid first.
 * Usage: node exiting-gateway.ts FIXTURE
 */
import { UpstreamPool } from '../pool.ts';

const fixture = process.argv[2] as string;
const pool = new UpstreamPool({
  servers: { fx: { command: process.execPath, args: [fixture, '--linger'], timeoutMs: 20_000 } },
  log: () => {},
});
const client = await pool.client('fx', 'alice');
const result = await client.request({ method: 'tools/call', params: { name: 'whoami', arguments: {} } });
const content = result.content as Array<{ text: string }>;
process.stdout.write(`${JSON.parse(content[0]?.text ?? '{}').pid}\n`);
process.exit(0);

/** A failure the user can fix: printed as one line, with no stack, and exit code 1. */
export class UsageError extends Error {}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** Reads all of standard input (for --password-stdin). */
export async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * The options every administration command shares, for their `--help`: they must act on the
 * same state as the servers they administer.
 */
export const DATA_OPTIONS = `  --data DIR      the data folder: master secret, SQLite database (default .gatehouse, or GATEHOUSE_DATA)
  --store URL     postgres://… when the servers keep their state in PostgreSQL (or GATEHOUSE_STORE)`;

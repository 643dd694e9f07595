/**
 * Runs one client verb's module (`packages/cli/src/commands/<verb>.ts`) as its own process, the way
 * `gatehouse <verb>` does. Used only while `packages/cli/src/main.ts` does not yet dispatch the
 * client verbs (see `cliCommand` in cli.browser.test.ts, which prefers the real entry point).
 *
 * argv: <verb> [args…]
 */
const VERBS = new Set(['login', 'tools', 'call', 'logout', 'tokens']);
const [verb, ...args] = process.argv.slice(2);
if (!verb || !VERBS.has(verb)) {
  process.stderr.write(`cli-verb: unknown client verb "${verb ?? ''}"\n`);
  process.exit(2);
}
const command = (await import(`../../packages/cli/src/commands/${verb}.ts`)) as {
  run(args: string[]): Promise<number>;
};
process.exitCode = await command.run(args);

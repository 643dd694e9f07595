import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { describe, test } from 'node:test';
import { cli } from './harness.ts';

/**
 * `--help` on every verb prints its usage and exits 0, without running it. The verbs come from
 * the command modules themselves, so a new command is covered the day it is added.
 */
const verbs = readdirSync(new URL('../src/commands/', import.meta.url))
  .filter((file) => file.endsWith('.ts') && !file.endsWith('.test.ts'))
  .map((file) => file.slice(0, -'.ts'.length));

/** Sub-verbs whose own arguments would otherwise be required or read (stdin, a data folder). */
const subVerbs = [
  ['users', 'add', 'alice', '--password-stdin'],
  ['users', 'remove'],
  ['clients', 'add', '--name', 'Notes'],
  ['grants', 'revoke'],
  ['audit', 'tail', '--follow'],
  ['keys', 'rotate'],
  ['call', 'http://127.0.0.1:9/mcp', 'list_files'],
];

const printsUsage = async (args: string[], verb: string) => {
  const result = await cli(args);
  assert.equal(result.code, 0, `gatehouse ${args.join(' ')}: ${result.stderr}`);
  assert.equal(result.stderr, '');
  assert.match(result.stdout, new RegExp(`^Usage: gatehouse ${verb}\\b`));
};

describe('gatehouse --help', () => {
  test('CLI: the overview names every command and how to get its usage', async () => {
    const result = await cli(['--help']);
    assert.equal(result.code, 0);
    for (const verb of verbs) assert.match(result.stdout, new RegExp(`^  ${verb}\\s`, 'm'), verb);
    assert.match(result.stdout, /gatehouse <command> --help/);
  });

  for (const verb of verbs) {
    test(`CLI: gatehouse ${verb} --help and -h print its usage and exit 0`, async () => {
      await printsUsage([verb, '--help'], verb);
      await printsUsage([verb, '-h'], verb);
    });
  }

  test('CLI: gatehouse help serve is gatehouse serve --help', async () => {
    await printsUsage(['help', 'serve'], 'serve');
  });

  for (const args of subVerbs) {
    test(`CLI: gatehouse ${args.slice(0, 2).join(' ')} … --help prints the usage instead of running`, async () => {
      await printsUsage([...args, '--help'], args[0] as string);
    });
  }

  test('CLI: an unknown command, even one named like an Object property, is refused with the overview', async () => {
    for (const verb of ['nope', 'constructor', '__proto__', 'toString']) {
      const result = await cli([verb]);
      assert.equal(result.code, 1, verb);
      assert.match(result.stderr, new RegExp(`unknown command "${verb}"`));
    }
  });

  test('CLI: after --, -h is an operand and the command runs', async () => {
    const result = await cli(['audit', 'head', '--', '-h']);
    // `audit` runs, and refuses the sub-verb with its usage on stderr before opening any store.
    assert.equal(result.code, 1);
    assert.match(result.stderr, /^gatehouse: Usage: gatehouse audit/);
  });
});

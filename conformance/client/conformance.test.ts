import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

/**
 * Runs the official MCP conformance client suite against our entry point, once per MCP
 * authorization revision, plus the client-credentials extensions. Everything stays on loopback:
 * the suite starts its own mock MCP and authorization servers.
 */
const run = promisify(execFile);
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const bin = join(root, 'node_modules/.bin/conformance');
const command = 'npm run --silent conformance:client --';
const expectedFailures = join(root, 'conformance/client/expected-failures.yml');

async function conformance(args: string[]): Promise<{ code: number; out: string }> {
  try {
    const { stdout, stderr } = await run(
      bin,
      ['client', '--command', command, '--expected-failures', expectedFailures, ...args],
      { cwd: root, maxBuffer: 64 * 1024 * 1024, timeout: 240_000 },
    );
    return { code: 0, out: stdout + stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : 1, out: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

function summary(out: string): string {
  const at = out.indexOf('=== SUITE SUMMARY ===');
  return at >= 0 ? out.slice(at) : out.slice(-4000);
}

describe('MCP conformance: client auth suite', { concurrency: 1 }, () => {
  for (const version of ['2025-11-25', '2026-07-28']) {
    test(`MCP ${version} authorization: every auth scenario passes`, async () => {
      const { code, out } = await conformance(['--suite', 'auth', '--spec-version', version]);
      assert.equal(code, 0, summary(out));
    });
  }

  for (const scenario of ['auth/client-credentials-basic', 'auth/client-credentials-jwt']) {
    test(`SEP-1046 extension: ${scenario} passes`, async () => {
      const { code, out } = await conformance(['--scenario', scenario]);
      assert.equal(code, 0, out.slice(-4000));
    });
  }
});

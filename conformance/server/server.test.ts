import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { REVISIONS, runConformance, startConformanceTarget } from './run.ts';

/**
 * The official MCP conformance server scenarios against the demo as `gatehouse serve` runs it
 * (guard in front, token from the real AS by client_credentials), once per MCP revision's
 * requirement set. Baselines: expected-failures-<revision>.yml.
 */
let target: Awaited<ReturnType<typeof startConformanceTarget>>;
before(async () => {
  target = await startConformanceTarget();
});
after(() => target?.close());

test('the conformance token comes from gatehouse serve by client_credentials, for <issuer>/mcp', () => {
  assert.match(target.scope, /tools:execute:database/);
  assert.ok(target.issuer.startsWith('http://127.0.0.1:'));
});

for (const revision of REVISIONS) {
  test(`MCP ${revision} conformance: the required server scenarios pass against the protected demo with a valid token (baseline: expected-failures-${revision}.yml)`, async () => {
    const { code, output } = await runConformance(target.url, revision);
    assert.equal(code, 0, output);
    assert.match(output, /dns-rebinding-protection: 2 passed, 0 failed/);
    assert.match(output, /tools-list: \d+ passed, 0 failed/);
    assert.match(output, /resources-list: \d+ passed, 0 failed/);
    if (revision === '2026-07-28') {
      assert.match(output, /http-header-validation: \d+ passed, 0 failed/);
      assert.match(output, /caching: \d+ passed, 0 failed/);
    }
  });
}

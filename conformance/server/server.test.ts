import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runConformance, startConformanceTarget } from './run.ts';

test('MCP conformance: the server scenarios pass against the protected demo with a valid token (baseline: expected-failures.yml)', async () => {
  const target = await startConformanceTarget();
  try {
    const { code, output } = await runConformance(target.url);
    assert.equal(code, 0, output);
    assert.match(output, /dns-rebinding-protection: 2 passed, 0 failed/);
    assert.match(output, /tools-list: 1 passed, 0 failed/);
  } finally {
    await target.close();
  }
});

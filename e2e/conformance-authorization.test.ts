import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runAuthorizationConformance } from '../conformance/authorization/run.ts';
import { browserSkipReason } from './helpers/browser.ts';

/**
 * The "done when": the official MCP conformance suite's authorization-server scenarios
 * pass against `gatehouse serve`, with sign-in and consent driven by headless Chromium.
 */
const skip = browserSkipReason();

test('MCP conformance: authorization-server-metadata-endpoint and authorization-code-grant pass against gatehouse serve', {
  skip,
  timeout: 120_000,
}, async () => {
  const { code, output } = await runAuthorizationConformance();
  const summary = output.slice(Math.max(0, output.indexOf('=== SUMMARY ===')));
  assert.equal(code, 0, output);
  assert.match(summary, /✓ authorization-server-metadata-endpoint: \d+ passed, 0 failed/);
  assert.match(summary, /✓ authorization-code-grant: 1 passed, 0 failed/);
  assert.doesNotMatch(output, /WARNING/, 'no scenario check may end in a warning');
});

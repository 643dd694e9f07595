import assert from 'node:assert/strict';
import { test } from 'node:test';
import { overviewPeriod, overviewWindow, summariseOverview } from './overview-data.ts';

const NOW = Date.UTC(2026, 11, 1, 9, 30) / 1000;

test('overview: ?days= is an allow-list (1, 7, 30); anything else is the default 7 days', () => {
  assert.equal(overviewPeriod('1').bucketSeconds, 3_600);
  assert.equal(overviewPeriod('30').bucketSeconds, 86_400);
  for (const value of [null, '', '365', 'constructor', '__proto__', '7.0'])
    assert.equal(overviewPeriod(value).days, 7);
});

test('overview: the window ends with the bucket that holds now and starts whole hours (or days) before', () => {
  assert.deepEqual(overviewWindow(overviewPeriod('1'), NOW), {
    from: Date.UTC(2026, 10, 30, 10) / 1000,
    to: Date.UTC(2026, 11, 1, 10) / 1000,
  });
  const month = overviewWindow(overviewPeriod('30'), NOW);
  assert.equal(month.to, Date.UTC(2026, 11, 2) / 1000);
  assert.equal((month.to - month.from) / 86_400, 30);
});

test('overview: the aggregate rows fold into series with every bucket, calls per server and tool, and refusal reasons', () => {
  const window = overviewWindow(overviewPeriod('1'), NOW);
  const last = window.to - 3_600;
  const o = summariseOverview(
    [
      { type: 'token.issued', bucket: last, count: 2 },
      { type: 'token.refreshed', bucket: last, count: 1 },
      { type: 'mcp.call', bucket: last, server: 'files', name: 'read_file', outcome: 'allowed', count: 4 },
      { type: 'mcp.call', bucket: last, server: 'files', name: 'write_file', outcome: 'denied', count: 1 },
      {
        type: 'mcp.call',
        bucket: window.from,
        server: 'db',
        name: 'query',
        outcome: 'upstream_error',
        count: 2,
      },
      { type: 'refresh.reuse_detected', bucket: last, count: 1 },
      { type: 'login.failed', bucket: last, count: 3 },
      { type: 'login.rate_limited', bucket: last, count: 1 },
    ],
    window,
    3_600,
  );
  assert.equal(o.tokens.length, 24);
  assert.equal(o.tokens.at(-1)?.count, 3);
  assert.equal(o.tokensIssued, 2);
  assert.equal(o.tokensRefreshed, 1);
  assert.equal(o.calls[0]?.count, 2);
  assert.equal(o.calls.at(-1)?.count, 5);
  assert.deepEqual(o.callsPerServer, [
    { label: 'files', count: 5 },
    { label: 'db', count: 2 },
  ]);
  assert.deepEqual(
    o.callsPerTool.map((b) => `${b.label}=${b.count}`),
    ['files · read_file=4', 'files · write_file=1', 'db · query=2'],
  );
  assert.deepEqual(o.refusalReasons, [{ label: '403 insufficient scope: files · write_file', count: 1 }]);
  assert.equal(o.refusals.at(-1)?.count, 1);
  assert.equal(o.reuse.at(-1)?.count, 1);
  assert.equal(o.signInFailures.at(-1)?.count, 4);
  assert.equal(o.badCredentials, 3);
  assert.equal(o.rateLimited, 1);
});

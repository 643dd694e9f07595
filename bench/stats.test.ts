import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkTarget, formatTable, median, type Series, summarise } from './stats.ts';

const series = (contender: string, rps: number[]): Series => ({
  contender,
  scenario: 'client_credentials',
  rps,
  p50: rps.map(() => 1),
  p99: rps.map(() => 2),
  serverCpu: rps.map(() => 1),
  loadCpu: rps.map(() => 0.2),
});

test('the median of an odd and an even number of rounds', () => {
  assert.equal(median([5, 1, 3]), 3);
  assert.equal(median([4, 1, 3, 2]), 2.5);
  assert.ok(Number.isNaN(median([])));
});

test('a target is judged on the ratio of medians, with the per-round ratios kept for the record', () => {
  const all = [series('gatehouse', [100, 300, 200]), series('ceiling', [200, 400, 250])];
  const result = checkTarget(
    { scenario: 'client_credentials', subject: 'gatehouse', baseline: 'ceiling', factor: 0.8 },
    all,
  );
  assert.equal(result.ratio, 200 / 250);
  assert.deepEqual(result.roundRatios, [0.5, 0.75, 0.8]);
  assert.equal(result.pass, true);
});

test('the table shows each contender against the baselines', () => {
  const table = formatTable(
    [summarise(series('gatehouse', [400])), summarise(series('ceiling', [500]))],
    ['ceiling'],
  );
  assert.match(table, /^contender\s+req\/s\s+p50 ms\s+p99 ms\s+server CPU\s+CPU µs\/req\s+× ceiling$/m);
  assert.match(table, /^gatehouse\s+400\s+1\.00\s+2\.00\s+100%\s+2500\s+0\.80$/m);
});
